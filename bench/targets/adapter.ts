// What the harness needs to know of a long-poll protocol: how to build a waiting request and a set,
// and how to classify a response. One adapter per protocol; workers look them up by name, since an
// adapter cannot cross a process boundary.

import type { ScenarioType } from "../scenario.ts";

export type { ScenarioType };

export type Classified =
  | { kind: "value"; value: string; version?: number }
  | { kind: "timeout" }
  | { kind: "error"; reason: string };

export interface ControlRequest {
  method: "POST" | "PUT" | "GET";
  path: string;
  body: string;
  contentType: string;
}

export interface ProtocolAdapter {
  readonly name: string;
  /** Scenario types this protocol can run (a protocol without per-request timeouts has no timeout storm). */
  readonly supports: readonly ScenarioType[];
  /**
   * Complete HTTP/1.1 request text for one waiting request on `key`, ready to write to a socket;
   * with `since`, a request that waits for a version greater than it (the cursor extension).
   */
  waitRequest(hostHeader: string, key: string, timeoutS: number, since?: number): string;
  setRequest(key: string, value: string): ControlRequest;
  /** A read that answers at once (a present value, no waiting): for the set-throughput baseline. */
  immediateGetRequest(key: string): ControlRequest;
  classify(status: number, body: string): Classified;
}

/** Form-encode one request body, as the original protocol's clients do. */
export function formBody(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

export function postRequest(hostHeader: string, path: string, body: string, contentType: string): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: ${contentType}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
