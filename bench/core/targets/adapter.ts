// What the harness needs to know of a long-poll protocol: how to build a waiting request and a
// publish, and how to classify an answer. Every protocol, built in or a user's, is a profile
// (profile.ts) compiled into this interface (profile-adapter.ts); workers rebuild it from the
// profile, which crosses the process boundary as plain data.

import type { ScenarioType } from "../scenario.ts";

export type { ScenarioType };

export type Classified =
  /** A value (and, for an answer that carries several messages, the rest in order); the cursor to re-poll with. */
  | { kind: "value"; value: string; more?: string[]; cursor?: string }
  | { kind: "timeout"; cursor?: string }
  | { kind: "error"; reason: string };

/** One request of the control path (publish, a read), sent with undici. */
export interface ControlRequest {
  method: "POST" | "PUT" | "GET" | "PATCH";
  path: string;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

export interface ProtocolAdapter {
  readonly name: string;
  /** The wait carries a timeout of the client's choosing (else no timeout storm can be asked of it). */
  readonly hasTimeout: boolean;
  /** True when answers carry a cursor to re-poll from without loss. */
  readonly hasCursor: boolean;
  /** Lower-case names of response headers the cursor is read from (the parser keeps only these). */
  readonly cursorHeaders: readonly string[];
  /**
   * Complete HTTP/1.1 request text for one waiting request on `key`, ready to write to a socket;
   * with a cursor (from an earlier answer), one that waits for what came after it.
   */
  waitRequest(hostHeader: string, key: string, timeoutS: number, cursor?: string): string;
  setRequest(key: string, value: string): ControlRequest;
  /** A read that answers at once (a present value, no waiting), where the protocol has one. */
  immediateGetRequest(key: string): ControlRequest | undefined;
  classify(status: number, body: string, headers?: Record<string, string>): Classified;
}
