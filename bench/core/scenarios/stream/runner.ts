// stream: waiters re-poll after every answer while the setter publishes at a steady rate; per waiter
// the harness knows every message of its key, so it reports delivered, lost, duplicate and
// out-of-order exactly, latency from each set's scheduled send, and how late the setter itself was.
// The re-poll uses the cursor where the target's profile has one (seed: `since=<version>`);
// otherwise a fresh key per message (`<key>-m<seq>`), which loses nothing on the original protocol
// either. run.json says which.

import { UsageError } from "../../../errors.ts";
import { cpuDelta } from "../../metrics/cpu.ts";
import { keyNames, streamSets } from "../../plan.ts";
import { rawWait } from "../../probe.ts";
import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import { failEveryWaiter, parkFleet, scenarioFleet } from "../../runners/parking.ts";
import { nowNs, pollUntil } from "../../runners/poll.ts";
import { recordDriverShare, recordFanout, recordLatency } from "../../runners/record.ts";
import { runSets } from "../../setter.ts";
import { sendOne } from "../../targets/send-one.ts";
import type { Target } from "../../targets/target.ts";
import type { StreamScenario } from "./schema.ts";

/**
 * Can the target re-poll from a cursor? Its profile must name one, and an answer must carry it (the
 * original protocol's servers speak the seed profile but answer without versions). Where the profile
 * has a read that answers at once, one set and one read ask; where it has none, or that answer is no
 * value with a cursor (nchan's publisher GET answers with channel info, its messages' cursor is in
 * the subscriber's headers), a wait's answer asks: that is what a stream re-polls from. Where it
 * cannot, why. Whether the server honours the cursor is what the stream itself measures (lost,
 * duplicated).
 */
export async function detectCursor(
  target: Target,
  key: string,
): Promise<{ cursor: true } | { cursor: false; why: string }> {
  const { adapter } = target;
  if (!adapter.hasCursor) return { cursor: false, why: "the profile names no cursor" };
  const read = adapter.immediateGetRequest(key);
  let readWhy: string | undefined;
  if (read !== undefined) {
    await sendOne(target, adapter.setRequest(key, "lpb-cursor-probe"));
    const { status, body, headers } = await sendOne(target, read);
    const classified = adapter.classify(status, body, headers);
    if (classified.kind === "value" && classified.cursor !== undefined) return { cursor: true };
    readWhy =
      classified.kind !== "value"
        ? `the profile's read_now answer (HTTP ${status}, ${JSON.stringify(body.slice(0, 80))}) was not a value to the profile (${classified.kind}${"reason" in classified ? `: ${classified.reason}` : ""}): check answer.value and value_if`
        : "the profile's read_now answer carries no cursor where the profile says it is";
  }
  const answer = await answerOfAWait(target, `${key}-wait`);
  const classified = answer !== undefined && "classified" in answer ? answer.classified : undefined;
  if (classified?.kind === "value" && classified.cursor !== undefined) return { cursor: true };
  const waitWhy =
    answer === undefined
      ? "a wait got no answer to the values set on its key within 10 s"
      : "failed" in answer
        ? `a wait failed: ${answer.failed}`
        : classified?.kind !== "value"
          ? `a wait's answer was not a value to the profile (${classified?.kind})`
          : "a wait's answer carries no cursor where the profile says it is";
  return { cursor: false, why: readWhy === undefined ? waitWhy : `${readWhy}; ${waitWhy}` };
}

/**
 * The first answer of one wait on a key, with values set on it until one comes: a set that arrives
 * before the wait is parked may go unseen by a server whose waits see only what comes after them, so
 * no pause is assumed long enough; the next set wakes it.
 */
async function answerOfAWait(target: Target, key: string) {
  const { adapter } = target;
  const waiting = rawWait(target, adapter.waitRequest(target.url.host, key, 10), 10_000);
  let answered = false;
  const answer = waiting.answer.finally(() => {
    answered = true;
  });
  for (let i = 0; i < 20 && !answered; i++) {
    await Promise.race([answer, new Promise((r) => setTimeout(r, 100 + 50 * i))]);
    if (!answered) await sendOne(target, adapter.setRequest(key, `lpb-cursor-probe-${i}`));
  }
  const result = await answer;
  waiting.close();
  return result;
}

/**
 * The fresh-key fallback sends each message on a key of its own, and a waiter re-polls on the next
 * key, often after its message was published: it works only where a wait on a key that already holds
 * a value answers at once. Asked of the server: a value, then a wait on its key.
 */
export async function freshKeyWorks(target: Target, key: string): Promise<string | undefined> {
  const { adapter } = target;
  await sendOne(target, adapter.setRequest(key, "lpb-fresh-key-probe"));
  const waiting = rawWait(target, adapter.waitRequest(target.url.host, key, 5), 2_000);
  const answer = await waiting.answer;
  waiting.close();
  if (answer !== undefined && "classified" in answer && answer.classified.kind === "value") return undefined;
  return answer === undefined
    ? "a wait on a key that already holds a value did not answer within 2 s: this server's waits see only changes made after them"
    : `a wait on a key that already holds a value got ${"failed" in answer ? answer.failed : answer.classified.kind}`;
}

/** Behind by more than this many of a key's message intervals: the stream fell behind. */
export const FALL_BEHIND_FACTOR = 10;
/** The interval the factor applies to is at least this: a fast stream may lag a few messages. */
const MIN_INTERVAL_MS = 100;

/**
 * 1 when the setter's sets went out (p99) or the messages arrived (p50) later than FALL_BEHIND_FACTOR
 * × the time between two messages of one key: a target (or setter) that cannot keep up with the rate
 * lags more and more, and its latencies read as the stream's backlog, not its speed.
 */
export function fellBehind(s: StreamScenario, setLatenessP99Ms: number, latencyP50Ms = 0): number {
  const boundMs = FALL_BEHIND_FACTOR * Math.max((1000 * s.keys) / s.rate_per_s, MIN_INTERVAL_MS);
  return setLatenessP99Ms > boundMs || latencyP50Ms > boundMs ? 1 : 0;
}

export async function runStream(api: RunnerApi<StreamScenario>): Promise<RunnerOutput> {
  const { scenario: s, target, guard, metric, progress, phases } = api;
  const keys = keyNames(api.runTag, s.name, api.repeat, s.keys);
  // A push subscriber gets every message of its key on its one connection: no re-poll, one key. It
  // needs a cursor only to resume after a reconnect.
  const detected =
    api.transport === "long-poll"
      ? await guard(detectCursor(target, `${keys[0]}-probe`))
      : ({ cursor: true } as const);
  // (A reconnecting stream over a transport whose messages carry no cursor never gets here: the
  // session skips that cell with its reason, stream/index.ts cannotRunOver.)
  const cursor = detected.cursor;
  if (!detected.cursor) {
    // Never silently: the table's notes say fresh-key, and this says why (run.json too).
    api.warn(`${s.name}: no cursor re-poll (${detected.why}): a fresh key per message instead`);
    const broken = await guard(freshKeyWorks(target, `${keys[0]}-fresh`));
    if (broken !== undefined)
      throw new UsageError(
        `${s.name}: cannot stream on ${target.name}: ${detected.why}, and a fresh key per message would lose every message a waiter re-polls for after it was sent (${broken}); give the profile a cursor the server honours (docs/own-server.md)`,
      );
  }
  const { sets, messagesPerKey } = streamSets(keys, s.rate_per_s, s.duration_s, cursor);
  const { fleet, parked } = await parkFleet(
    api,
    scenarioFleet(s, {
      kind: "stream",
      cursor,
      messagesPerKey,
      ...(s.reconnect_after !== undefined ? { reconnectAfter: s.reconnect_after } : {}),
    }),
  );

  phases.begin("fire");
  const fireStart = phases.elapsed();
  const fireAtNs = nowNs() + 50_000_000n;
  // A target that cannot keep up would have the setter's sets queued for as long as its backlog
  // lasts: the stream is cut once the schedule plus the collect deadline has passed.
  const stopAtNs = fireAtNs + BigInt(Math.round(s.duration_s * 1000 + s.deadlines.collect_ms)) * 1_000_000n;
  const publishing = runSets({ target, sets, fireAtNs, signal: api.stopSignal, stopAtNs });
  // Progress while the stream runs; the setter's promise ends the phase.
  let done = false;
  publishing.finally(() => {
    done = true;
  });
  while (!done) {
    const st = await guard(fleet.status());
    // Only gaps are lost so far: messages after a waiter's last one may not have been sent yet.
    progress.detail(
      `delivered ${st.delivered} / ${s.waiters * messagesPerKey}, lost so far ${st.lost - st.tail}, errors ${st.errors}`,
    );
    await guard(Promise.race([api.sleep(250), publishing.then(() => undefined)]));
  }
  const setter = await guard(publishing);

  phases.begin("collect");
  // Cut: the collect deadline is spent already, and what the stream would have delivered is unknown.
  const status = setter.cut
    ? await guard(fleet.status())
    : await pollUntil(
        api,
        fleet,
        nowNs() + BigInt(s.deadlines.collect_ms) * 1_000_000n,
        (st) => st.finished + st.errors >= s.waiters,
        (st) => `${st.finished} of ${s.waiters} waiters at their key's last message`,
      );
  await api.failIfTargetGone(status);
  const cpu = cpuDelta(parked.cpuReady, await api.readCpu());
  recordDriverShare(api, "fanout", cpu, phases.elapsed() - fireStart);

  const { counts, histograms } = await api.takeReports();
  metric("stream_cursor", cursor ? 1 : 0);
  metric("stream_messages_per_key", messagesPerKey);
  if (setter.cut) {
    // Which messages the target stored is unknown (sets abandoned unanswered), so lost and expected
    // are not measured; it fell behind, which is the finding.
    metric("sets_cut", setter.cut.unanswered);
    api.warn(
      `${s.name}: cut ${(s.deadlines.collect_ms / 1000).toFixed(0)} s after its ${s.duration_s} s schedule: ${setter.cut.unanswered} of ${setter.cut.planned} sets were still unsent or unanswered, so the target (or the setter) fell behind; lost and expected are not measured (which of those sets the target stored is unknown)`,
    );
  } else {
    metric("expected", s.waiters * messagesPerKey);
    metric("lost", counts.lost);
  }
  metric("delivered", counts.delivered);
  metric("duplicates", counts.duplicates);
  metric("out_of_order", counts.outOfOrder);
  metric("errors", counts.errors);
  if (s.reconnect_after !== undefined) metric("reconnects", counts.reconnects);
  const latency = recordLatency(api, "notification", histograms.latency);
  recordFanout(api, setter, cpu, counts.delivered);
  metric(
    "fell_behind",
    setter.cut ? 1 : fellBehind(s, setter.lateness.getValueAtPercentile(99) / 1000, latency?.p50_ms),
  );
  if (counts.delivered === 0) await failEveryWaiter(api, "no waiter got a message of the stream");
  return { streamMode: cursor ? "cursor" : "fresh-key" };
}
