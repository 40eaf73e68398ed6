// --warmup N: before a run's measured phases, N waiters park on a key of their own, one set wakes
// them, and they leave: the target has then served the paths the run measures (accept, parse, park,
// wake, write, close) N times. Why: a freshly started server on a JIT (Node, Python's tornado)
// spends a run's first thousands of requests in unoptimised code (the reference server's CPU per
// connect and per wake fell by about half from its first run to its next ones:
// docs/perf/2026-11-28-design-figures.md, "Warm-up"). Off by default: a cold start is a figure too, and the CI gate's
// baseline is recorded cold. Every target gets the same warm-up, so comparisons stay fair.
//
// The warm-up's sockets are opened here, in the coordinator (not the driver workers), a few hundred
// at a time; each counts its first read as its answer (nothing is measured). Its garbage on the
// target is collected afterwards where the target allows (/stats?gc=1), so memory per waiter is not
// flattered by collecting it during the measured connect phase.

import { connect, type Socket } from "node:net";
import { UsageError } from "../errors.ts";
import { formatSetValue } from "./set-value.ts";
import { sendOne } from "./targets/send-one.ts";
import type { Target } from "./targets/target.ts";

export const WARMUP_KEY = "lpb-warmup";
/** The most warm-up waiters one run opens (they share the coordinator's descriptors). */
export const MAX_WARMUP_WAITERS = 10_000;
const BATCH = 250;
const STEP_MS = 10;
const PHASE_DEADLINE_MS = 15_000;
const WAIT_TIMEOUT_S = 30;

export interface WarmupOutcome {
  waiters: number;
  answered: number;
  errors: number;
  /** Why it stopped short, if it did (the run goes on: a warning says so). */
  shortfall?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function warmUpTarget(
  target: Target,
  waiters: number,
  signal?: AbortSignal,
  deadlineMs = PHASE_DEADLINE_MS,
): Promise<WarmupOutcome> {
  if (target.profile.wait === undefined)
    throw new UsageError(
      `--warmup parks long polls, and ${target.name}'s profile "${target.profile.name}" has none (it only pushes); leave --warmup out`,
    );
  const host = target.url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.url.port);
  const request = Buffer.from(
    target.adapter.waitRequest(target.url.host, WARMUP_KEY, WAIT_TIMEOUT_S),
    "latin1",
  );
  const sockets: Socket[] = [];
  let connected = 0;
  let answered = 0;
  let errors = 0;
  const out: WarmupOutcome = { waiters, answered: 0, errors: 0 };
  const until = async (done: () => boolean | Promise<boolean>, what: string): Promise<boolean> => {
    const deadline = Date.now() + deadlineMs;
    while (!(await done())) {
      if (signal?.aborted || Date.now() > deadline) {
        out.shortfall ??= `${what} within ${deadlineMs / 1000} s`;
        return false;
      }
      await sleep(STEP_MS);
    }
    return true;
  };
  try {
    for (let opened = 0; opened < waiters && !signal?.aborted; opened += BATCH) {
      for (let i = opened; i < Math.min(waiters, opened + BATCH); i++) {
        const socket = connect({ host, port, noDelay: true });
        let first = true;
        socket.once("connect", () => {
          connected++;
          socket.write(request);
        });
        socket.on("data", () => {
          if (first) answered++;
          first = false;
        });
        socket.on("error", () => {
          errors++;
        });
        sockets.push(socket);
      }
      await sleep(STEP_MS);
    }
    await until(() => connected + errors >= waiters, "not every warm-up waiter connected");
    // Parked, where the target counts them; otherwise a fixed wait, as the run's own barrier does.
    const parked = async () => (await target.stats().catch(() => undefined))?.waiters;
    if ((await parked()) === undefined) await sleep(1_000);
    else await until(async () => ((await parked()) ?? 0) >= connected, "not every warm-up waiter parked");
    const set = sendOne(
      target,
      target.adapter.setRequest(WARMUP_KEY, formatSetValue(process.hrtime.bigint())),
    );
    set.catch(() => {}); // its failure is the race's, below; a late one is nobody's
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      set,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the warm-up's set was not answered within ${deadlineMs / 1000} s`)),
          deadlineMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    await until(() => answered + errors >= connected, "not every warm-up waiter was answered");
  } catch (error) {
    out.shortfall ??= (error as Error).message;
  } finally {
    for (const s of sockets) s.destroy();
  }
  // Gone from the target, and its garbage collected there, before the run measures anything.
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const left = (await target.stats().catch(() => undefined))?.waiters;
    if (left === undefined || left === 0 || Date.now() > deadline || signal?.aborted) break;
    await sleep(STEP_MS);
  }
  await target.stats(true).catch(() => undefined);
  out.answered = answered;
  out.errors = errors;
  if (out.shortfall === undefined && answered < waiters)
    out.shortfall = `${answered} of ${waiters} warm-up waiters answered, ${errors} errors`;
  return out;
}
