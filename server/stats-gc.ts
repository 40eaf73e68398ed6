// `GET /stats?gc=1`: a full garbage collection before the figures, so that heap per waiter is what
// is live (the harness asks for it between phases). A full collection of a large heap takes tens of
// milliseconds of the one thread that serves every client, so it must not be a lever anyone can pull
// at will (200 pipelined requests with 5,000 parked cost 7.2 s of CPU and stalled /healthz 3.5 s):
//
// - only a client on a loopback address may ask (from others, gc=1 is ignored and the answer says so);
// - collections take at most a tenth of the process's time: after one that took d ms the next waits
//   until 10·d ms after the last began, and every request that arrives meanwhile waits for that one
//   and shares it. An answer always comes after a collection that began no earlier than its request.
//
// Chosen over a flag that is off by default: the harness needs the collection from servers it starts
// (and from older commits of this server in the gate, which know no such flag), and with the two
// rules above the lever costs an attacker's target at most a tenth of its time.

import { performance } from "node:perf_hooks";

/** The share of time collections asked for by /stats may take. */
export const MAX_GC_SHARE = 0.1;

export class StatsCollector {
  private allowedAtMs = 0;
  private scheduled: Promise<void> | undefined;
  /** Collections made so far (tests count them). */
  collections = 0;

  constructor(
    private readonly collect: (() => void) | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Collect now, or at the next allowed moment; resolves true once collected, false if it cannot. */
  request(): Promise<boolean> {
    const collect = this.collect;
    if (collect === undefined) return Promise.resolve(false);
    if (this.scheduled === undefined) {
      const waitMs = this.allowedAtMs - this.now();
      if (waitMs <= 0) {
        this.run(collect);
        return Promise.resolve(true);
      }
      this.scheduled = new Promise<void>((resolve) => {
        setTimeout(() => {
          this.scheduled = undefined;
          this.run(collect);
          resolve();
        }, waitMs);
      });
    }
    return this.scheduled.then(() => true);
  }

  private run(collect: () => void): void {
    const started = this.now();
    collect();
    this.collections++;
    this.allowedAtMs = started + (this.now() - started) / MAX_GC_SHARE;
  }
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}
