// Collects young garbage in the quiet after many /get have parked, so that the next wake does not.
//
// Why: a parked /get's objects (its socket, connection, waiter and timer, ~1.6 KB of heap) are young
// when it parks, and V8 promotes what survives two young-generation collections. A wake allocates
// (a write request per waiter), so the first collection inside it copied every connection parked
// since the last one (docs/perf/2026-11-28-reference-server.md, "Young garbage collected in the
// quiet"). Two young collections
// once the parked count has been still for an interval move that work (the same work, not less) out
// of the wake, into the quiet before it. The harness's driver workers do the same (bench/driver/).
//
// Time is the injected Clock (clock.ts), so its test steps through the looks without sleeping.
//
// Needs --expose-gc (the harness starts the server with it, and so does `npm run server`); without it
// this does nothing.

/** How often the parked count is looked at; it must be unchanged between two looks. */
const INTERVAL_MS = 50;
/** At least this many more parked than after the last collection (or the lowest count since). */
export const MIN_NEW_PARKED = 1_000;

import { type Clock, systemClock, type TimerHandle } from "./clock.ts";

type Collect = (options: { type: "minor" }) => void;

export interface IdleCollector {
  /** Collections made so far. */
  readonly collections: number;
  stop(): void;
}

/** V8's collector where the process runs with --expose-gc. */
export const exposedGc = (): Collect | undefined => (globalThis as { gc?: Collect }).gc;

export function startIdleCollector(
  parkedCount: () => number,
  collect: Collect | undefined,
  clock: Clock = systemClock,
): IdleCollector {
  let collections = 0;
  if (collect === undefined) return { collections, stop: () => {} };
  let last = parkedCount();
  let base = last;
  let stopped = false;
  let timer: TimerHandle;
  const look = () => {
    const now = parkedCount();
    if (now !== last) {
      last = now; // still moving: parks arriving or a wake under way
      base = Math.min(base, now);
    } else if (now - base >= MIN_NEW_PARKED) {
      collect({ type: "minor" });
      collect({ type: "minor" });
      collections++;
      base = now;
    }
    if (!stopped) arm();
  };
  const arm = () => {
    timer = clock.setTimeout(look, INTERVAL_MS);
    // A real timer must not keep the process alive on its own (a server's sockets do that).
    (timer as { unref?: () => void }).unref?.();
  };
  arm();
  return {
    get collections() {
      return collections;
    },
    stop: () => {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
