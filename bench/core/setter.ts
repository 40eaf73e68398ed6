// The setter: fires /set requests on the scenario's schedule through undici (the control path).
// Each value carries its *scheduled* send time, so a set that goes out late counts its lateness in
// every waiter's latency instead of hiding it (coordinated omission). Lateness is also recorded on
// its own, so a result can say the setter, not the server, was late.
//
// Sets of one key reach the server in their order: each key is sent on one connection of its own
// (up to 64 connections, keys dealt round-robin), one request at a time. Why: from a pool, a setter
// that fell behind sent a key's next message on another connection while its previous one was
// still in flight, and the server could store them the other way round; a stream's followers then
// saw a gap and a message out of order that no server had caused (docs/perf/2026-12-06-gate.md).

import { setMaxListeners } from "node:events";
import { Client } from "undici";
import { type Histogram, newHistogram } from "./metrics/histograms.ts";
import { formatSetValue } from "./set-value.ts";
import { controlHeaders } from "./targets/send-one.ts";
import type { Target } from "./targets/target.ts";

export interface PlannedSet {
  key: string;
  /** Offset from the fire instant, ms. */
  offsetMs: number;
  /** Message number on its key (stream), carried in the value. */
  seq?: number;
}

export interface SetterResult {
  sent: number;
  errors: number;
  errorReasons: Record<string, number>;
  /** Actual send − scheduled send, µs. */
  lateness: Histogram;
  /** Sets sent more than 1 ms after their scheduled time. */
  late: number;
  /**
   * The schedule was cut at `stopAtNs` with sets not yet answered: the target fell behind. Counts:
   * sets never sent (or sent and abandoned unanswered, whose outcome is unknown), out of the plan.
   */
  cut?: { unanswered: number; planned: number };
}

export interface SetterOptions {
  /** Where the sets go and how they are spoken: its URL, its protocol, its profile's health path (warm-up). */
  target: Pick<Target, "url" | "adapter" | "profile">;
  sets: PlannedSet[];
  fireAtNs: bigint;
  /** Stops the schedule at once (Ctrl-C, the target died): the sets not yet sent are not sent. */
  signal?: AbortSignal;
  /**
   * Give up at this instant: sets not yet sent are not sent, and those waiting for their answer
   * are abandoned (result.cut says how many). Bounds a run against a target that cannot keep up,
   * whose answers would otherwise trickle in for as long as its backlog lasts.
   */
  stopAtNs?: bigint;
  /**
   * Called shortly before the fire instant (ARM_BEFORE_FIRE_MS), once the setter's connections are
   * open: where a runner starts measuring the fan-out's CPU, so that neither opening them nor what
   * the server does in the quiet before the fire is counted in it.
   */
  armed?: () => Promise<void>;
}

/** How long before the fire instant `armed` is called (room for a stats request to come back). */
const ARM_BEFORE_FIRE_MS = 30;

/** A set sent more than this after its scheduled time counts as late (timers have ~1 ms granularity). */
const LATE_US = 2000;

/** Sleep, cut short by the signal. */
const sleepNs = (ns: bigint, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, Math.max(0, Number(ns) / 1e6));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

export async function runSets(options: SetterOptions): Promise<SetterResult> {
  const { sets, fireAtNs } = options;
  const { adapter } = options.target;
  const keys = [...new Set(sets.map((s) => s.key))];
  const connections = Math.min(64, Math.max(1, keys.length));
  const clients = Array.from(
    { length: connections },
    () =>
      new Client(options.target.url.origin, { pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 }),
  );
  const clientOf = new Map(keys.map((key, i) => [key, clients[i % connections] as Client]));
  const result: SetterResult = {
    sent: 0,
    errors: 0,
    errorReasons: {},
    lateness: newHistogram(),
    late: 0,
  };
  const fail = (reason: string) => {
    result.errors++;
    result.errorReasons[reason] = (result.errorReasons[reason] ?? 0) + 1;
  };
  const inFlight: Promise<void>[] = [];
  // The deadline aborts both the schedule and the requests still waiting for an answer.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every request in flight listens to it: thousands, by design
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let answered = 0;
  const deadline =
    options.stopAtNs === undefined
      ? undefined
      : setTimeout(() => stop.abort(), Math.max(0, Number(options.stopAtNs - process.hrtime.bigint()) / 1e6));
  try {
    await warmUp(clients, options.target.profile.health);
    if (options.armed) {
      const untilArm = fireAtNs - BigInt(ARM_BEFORE_FIRE_MS * 1_000_000) - process.hrtime.bigint();
      if (untilArm > 0n) await sleepNs(untilArm, options.signal);
      await options.armed();
    }
    for (const planned of sets) {
      const scheduledNs = fireAtNs + BigInt(Math.round(planned.offsetMs * 1e6));
      const wait = scheduledNs - process.hrtime.bigint();
      if (wait > 0n) await sleepNs(wait, stop.signal); // never early: a set sent before its time would flatter latency
      if (stop.signal.aborted) break;
      const request = adapter.setRequest(planned.key, formatSetValue(scheduledNs, planned.seq));
      const sentNs = process.hrtime.bigint();
      const lateUs = Math.max(0, Number(sentNs - scheduledNs) / 1000);
      result.lateness.recordValue(lateUs);
      if (lateUs > LATE_US) result.late++;
      result.sent++;
      inFlight.push(
        (clientOf.get(planned.key) as Client)
          .request({
            method: request.method,
            path: request.path,
            body: request.body,
            headers: controlHeaders(request),
            signal: stop.signal,
          })
          .then(async (res) => {
            const body = await res.body.text();
            if (res.statusCode >= 200 && res.statusCode < 300) answered++;
            else fail(`HTTP ${res.statusCode} ${body.slice(0, 80)}`);
          })
          .catch((error: { code?: string; message: string }) => {
            // Abandoned at the deadline (or on Ctrl-C): counted in result.cut, not as an error.
            if (!stop.signal.aborted) fail(error.code ?? error.message);
          }),
      );
    }
    await Promise.all(inFlight);
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener("abort", onOuterAbort);
    await Promise.all(clients.map((c) => (stop.signal.aborted ? c.destroy() : c.close())));
  }
  const outerAborted = options.signal?.aborted === true;
  if (stop.signal.aborted && !outerAborted && answered + result.errors < sets.length)
    result.cut = { unanswered: sets.length - answered - result.errors, planned: sets.length };
  return result;
}

/**
 * Open the connections before the fire instant, so a set's latency holds no TCP handshake. Any
 * answer will do (a target without that path says 404), so errors are ignored here; a target that
 * refuses connections shows up as set errors in the run itself.
 */
async function warmUp(clients: Client[], path: string): Promise<void> {
  await Promise.all(
    clients.map((client) =>
      client.request({ method: "GET", path }).then(
        (res) => res.body.dump(),
        () => undefined,
      ),
    ),
  );
}
