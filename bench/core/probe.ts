// The probe: checks a target's profile against the live server in a few seconds, as the driver will
// speak to it (raw sockets, the same request bytes and parser, the same classification): a wait
// parks, a publish wakes it with the right value, the stats page counts it, a timeout is recognised,
// a cursor re-poll loses nothing, and each push transport the profile offers delivers and resumes
// (probe-push.ts). Returns a checklist; printing is in output/checklist.ts.

import { connect } from "node:net";
import { ResponseParser } from "./driver/http-response-parser.ts";
import { type Check, statsCountCheck } from "./probe-check.ts";
import { pushChecks } from "./probe-push.ts";
import { formatSetValue } from "./set-value.ts";
import type { Classified } from "./targets/adapter.ts";
import { sendOne } from "./targets/send-one.ts";
import type { Target } from "./targets/target.ts";

interface Waiting {
  /** The first answer, classified, with the ms it took; undefined if none came in time. */
  /** `at`: performance.now() when the answer came. */
  answer: Promise<
    | { classified: Classified; status: number; ms: number; at: number }
    | { failed: string; ms: number }
    | undefined
  >;
  close(): void;
}

/** One waiting request on a raw socket, exactly as a driver worker writes and reads it. */
export function rawWait(target: Target, request: string, limitMs: number): Waiting {
  const started = performance.now();
  const socket = connect({
    host: target.url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(target.url.port),
  });
  const parser = new ResponseParser(target.adapter.cursorHeaders);
  const answer = new Promise<Awaited<Waiting["answer"]>>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), limitMs);
    const done = (v: Awaited<Waiting["answer"]>) => {
      clearTimeout(timer);
      resolve(v);
    };
    const ms = () => Math.round(performance.now() - started);
    socket.once("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      try {
        const [r] = parser.push(chunk);
        if (r)
          done({
            classified: target.adapter.classify(r.status, r.body, r.headers),
            status: r.status,
            ms: ms(),
            at: performance.now(),
          });
      } catch (error) {
        done({ failed: `bad HTTP answer: ${(error as Error).message}`, ms: ms() });
      }
    });
    socket.on("error", (e: NodeJS.ErrnoException) => done({ failed: e.code ?? e.message, ms: ms() }));
    socket.on("close", () => done({ failed: "connection closed before an answer", ms: ms() }));
  });
  return { answer, close: () => socket.destroy() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describe = (a: Awaited<Waiting["answer"]>): string => {
  if (a === undefined) return "no answer";
  if ("failed" in a) return a.failed;
  const c = a.classified;
  return c.kind === "value"
    ? `a value (HTTP ${a.status})`
    : c.kind === "timeout"
      ? `a timeout (HTTP ${a.status})`
      : c.reason;
};

export async function probeTarget(
  target: Target,
  tag = Math.random().toString(36).slice(2, 8),
): Promise<Check[]> {
  const { adapter } = target;
  const host = target.url.host;
  const checks: Check[] = [];
  const key = (name: string) => `lpb-probe-${tag}-${name}`;
  if (target.profile.wait === undefined) {
    // A server that only pushes: its subscriptions are what a run needs, so their checks are required.
    checks.push({
      item: "a wait parks",
      required: false,
      status: "skip",
      detail: 'the profile has no "wait": the server only pushes (its transports are checked below)',
    });
    checks.push(...(await pushChecks(target, key, true)));
    return checks;
  }

  // 1. A wait parks (no answer within 300 ms), and the stats page counts it.
  const wait = rawWait(target, adapter.waitRequest(host, key("park"), 10), 10_000);
  const early = await Promise.race([wait.answer, sleep(300).then(() => "waiting" as const)]);
  const parks = early === "waiting";
  checks.push({
    item: "a wait parks",
    required: true,
    status: parks ? "pass" : "fail",
    detail: parks
      ? "no answer within 300 ms"
      : `answered at once with ${describe(early)}: check the profile's wait request (method, path, body)`,
  });
  checks.push(await statsCountCheck(target, "stats count the parked wait", parks));

  // 2. A publish wakes it with the right value.
  const value = formatSetValue(process.hrtime.bigint());
  const publishAt = performance.now();
  const published = await sendOne(target, adapter.setRequest(key("park"), value)).catch((e: Error) => e);
  const woke = early === "waiting" ? await wait.answer : early;
  wait.close();
  const publishOk = !(published instanceof Error) && published.status >= 200 && published.status < 300;
  const gotValue =
    woke !== undefined && "classified" in woke && woke.classified.kind === "value"
      ? woke.classified
      : undefined;
  const right =
    gotValue !== undefined && (gotValue.value === value || gotValue.more?.includes(value) === true);
  checks.push({
    item: "a publish wakes it with the right value",
    required: true,
    status: publishOk && right ? "pass" : "fail",
    detail: !publishOk
      ? `publish failed: ${published instanceof Error ? published.message : `HTTP ${published.status} ${published.body.slice(0, 80)}`}`
      : right
        ? `woken ${woke && "at" in woke ? (woke.at - publishAt).toFixed(1) : "?"} ms after the publish was sent, with the value`
        : gotValue
          ? `woken, but the value read was ${JSON.stringify(gotValue.value.slice(0, 60))}, not ${JSON.stringify(value)}: check answer.value / answer.messages`
          : `the wait got ${describe(woke)}: check the profile's answer section`,
  });

  // 3. A timeout is recognised.
  if (!adapter.hasTimeout) {
    checks.push({
      item: "a timeout is recognised",
      required: false,
      status: "skip",
      detail: "the protocol has no per-request timeout (no timeout-storm)",
    });
  } else {
    const t = rawWait(target, adapter.waitRequest(host, key("timeout"), 1), 6_000);
    const a = await t.answer;
    t.close();
    const ok = a !== undefined && "classified" in a && a.classified.kind === "timeout";
    checks.push({
      item: "a timeout is recognised",
      required: false,
      status: ok ? "pass" : "fail",
      detail: ok
        ? `a 1 s wait answered as a timeout after ${a.ms} ms`
        : `a 1 s wait got ${describe(a)}: check answer.timeout`,
    });
  }

  // 4. A cursor re-poll loses nothing: m0 wakes a wait, m1 and m2 are published with no one waiting,
  // the re-polls from the cursor must still get m1 then m2.
  if (!adapter.hasCursor) {
    checks.push({
      item: "a cursor re-poll loses nothing",
      required: false,
      status: "skip",
      detail: "no cursor in the profile: the stream scenario uses a fresh key per message",
    });
  } else {
    checks.push(await cursorCheck(target, key("cursor")));
  }

  // 5. Each push transport the profile offers (SSE, WebSocket): delivery, and resuming from the cursor.
  checks.push(...(await pushChecks(target, key)));
  return checks;
}

async function cursorCheck(target: Target, key: string): Promise<Check> {
  const { adapter } = target;
  const host = target.url.host;
  const item = "a cursor re-poll loses nothing";
  const fail = (detail: string): Check => ({ item, required: false, status: "fail", detail });
  const m = (i: number) => formatSetValue(process.hrtime.bigint(), i);
  const first = rawWait(target, adapter.waitRequest(host, key, 10), 5_000);
  await sleep(200);
  const m0 = m(0);
  await sendOne(target, adapter.setRequest(key, m0));
  const a0 = await first.answer;
  first.close();
  if (!a0 || !("classified" in a0) || a0.classified.kind !== "value")
    return fail(`the first wait got ${describe(a0)}`);
  let cursor = a0.classified.cursor;
  if (cursor === undefined) return fail("the answer carries no cursor where the profile says it is");
  const sent = [m(1), m(2)];
  for (const v of sent) await sendOne(target, adapter.setRequest(key, v));
  const seen: string[] = [];
  for (let polls = 0; polls < 4 && seen.length < sent.length; polls++) {
    const w = rawWait(target, adapter.waitRequest(host, key, 10, cursor), 3_000);
    const a = await w.answer;
    w.close();
    if (!a || !("classified" in a) || a.classified.kind !== "value") {
      const status = a && "status" in a ? (a as { status?: number }).status : undefined;
      const why =
        status !== undefined && status >= 400 && status < 500
          ? ` (a ${status} on re-poll: does the server refuse this cursor, or has it gone out of the server's history? check how the profile sends it back)`
          : "";
      return fail(`re-poll ${polls + 1} got ${describe(a)}${why}`);
    }
    seen.push(a.classified.value, ...(a.classified.more ?? []));
    cursor = a.classified.cursor ?? cursor;
  }
  // Exactly the two, in order: the first message again means the cursor names the last message seen
  // where the server wants the next one (it answers from the cursor on, inclusive).
  const inOrder = JSON.stringify(seen) === JSON.stringify(sent);
  return inOrder
    ? {
        item,
        required: false,
        status: "pass",
        detail: "2 messages published between polls: both came back, in order",
      }
    : fail(
        `published 2 between polls, re-polls got ${seen.length}: ${seen.join(", ")}${
          seen.includes(m0) || new Set(seen).size < seen.length
            ? "; the same message again: the server returns what the cursor names, so it wants the next index (send {cursor+1})"
            : ""
        }`,
      );
}
