// A target: the server under test, however it came to be (spawned here: built in or a user's
// command; attached by URL, on loopback or, opted in, remote). The run sees only this interface:
// where to connect, how to speak (its profile, compiled into the adapter), how to read the target's
// own figures, and how it ends.

import type { ProcSample } from "../metrics/proc.ts";
import type { ProtocolAdapter } from "./adapter.ts";
import type { Profile } from "./profile.ts";

export interface TargetStats {
  /** Parked waiters, where the target counts them (the reference server's /stats). */
  waiters?: number;
  heapUsedBytes?: number;
  rssBytes?: number;
  /** User + system CPU time, microseconds. */
  cpuUs?: number;
}

export interface Target {
  /** What the user named: "reference", a peer name, or the URL. */
  readonly name: string;
  readonly url: URL;
  /** The process id, for a target spawned here. */
  readonly pid: number | undefined;
  /**
   * CPU and RSS from /proc: the process (or, for a user's command, its whole process tree). Undefined
   * for an attached or remote target: those figures come from its stats page, or are unavailable.
   */
  procSample(): ProcSample | undefined;
  /** An attached target on this host whose process was not found: why its /proc figures are absent. */
  readonly procMissing?: string;
  /** The protocol profile (crosses to the driver workers as data; recorded in run.json). */
  readonly profile: Profile;
  readonly adapter: ProtocolAdapter;
  /**
   * Read the target's /stats; undefined when it exposes none. With gc, ask it to collect garbage
   * first (the reference server does when started with --expose-gc; others ignore the request).
   */
  stats(gc?: boolean): Promise<TargetStats | undefined>;
  /** What its stats page said that cannot be true (stats-client.ts); the run ends failed on it. */
  statsFaults(): readonly string[];
  /** Settles with a description when the target dies (or, attached, stops answering) before stop(). */
  readonly died: Promise<string>;
  /**
   * Ask now whether the target is gone: a description if so, undefined if it is alive. The run asks
   * when waiters failed, so a dead target is reported as such (exit 3), not as a pile of errors.
   */
  checkGone(): Promise<string | undefined>;
  stop(): Promise<void>;
}
