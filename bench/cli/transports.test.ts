// The push transports from the CLI, as a user runs them: --transports makes one cell per target and
// transport; a stream over SSE and over WebSocket whose subscribers drop and resume mid-way loses
// nothing against the reference server; a profile that resumes wrongly is caught by the counts and
// by the probe;
// a target that offers no such transport is skipped with a note; bad names are refused.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { nchanMissing } from "../core/targets/peers.ts";
import { ExitCode } from "../exit-codes.ts";
import { startByHand } from "../testing/by-hand.ts";
import { runCli } from "../testing/run-cli.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const CLI = new URL("./bench.ts", import.meta.url).pathname;
const PROBE = new URL("./probe.ts", import.meta.url).pathname;
const SERVER = new URL("../../server/main.ts", import.meta.url).pathname;
const SEED = new URL("../../profiles/seed.json", import.meta.url).pathname;

interface Row {
  target: string;
  transport?: string;
  complete: boolean;
  metrics: Record<string, number>;
}

const metricsOf = (r: Row) =>
  r.metrics as Record<string, number> & { reconnects: number; lost: number; duplicates: number };

function streamFile(dir: string, over: Record<string, unknown> = {}): string {
  // 30 subscribers over 3 keys, 60 messages per key; each drops its connection every 15 messages.
  return scenarioFile(dir, "resume", {
    type: "stream",
    waiters: 30,
    keys: 3,
    arrival: { type: "uniform", window_ms: 200 },
    rate_per_s: 120,
    duration_s: 1.5,
    reconnect_after: 15,
    sets: undefined,
    ...over,
  });
}

/** bench over every transport: it must exit 0; its stdout and run.json. */
async function benchEveryTransport(scenario: string, targets: string, out: string) {
  const r = await runCli(CLI, [
    scenario,
    "--targets",
    targets,
    "--transports",
    "long-poll,sse,websocket",
    "--out",
    out,
    "-q",
  ]);
  assert.equal(r.code, ExitCode.ok, r.stderr + r.stdout);
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as {
    results: Row[];
    skipped: string[];
  };
  return { r, record };
}

describe("push transports from the CLI", () => {
  test("a stream over SSE and WebSocket with reconnects mid-way: nothing lost, duplicated or reordered", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-transports-"));
    const out = join(dir, "run");
    const r = await runCli(CLI, [streamFile(dir), "--transports", "sse,websocket", "--out", out, "-q"]);
    assert.equal(r.code, ExitCode.ok, r.stderr + r.stdout);
    const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { results: Row[] };
    assert.deepEqual(
      record.results.map((x) => [x.target, x.transport, x.complete]),
      [
        ["reference/sse", "sse", true],
        ["reference/websocket", "websocket", true],
      ],
    );
    for (const row of record.results) {
      const m = metricsOf(row);
      assert.equal(m.expected, 30 * 60, row.target);
      assert.equal(m.delivered, m.expected, `${row.target}: every message`);
      assert.equal(m.lost, 0, row.target);
      assert.equal(m.duplicates, 0, row.target);
      assert.equal(m.out_of_order, 0, row.target);
      assert.equal(m.errors, 0, row.target);
      // Each subscriber dropped and resumed 3 times (after messages 15, 30, 45; not after its last).
      assert.equal(m.reconnects, 30 * 3, `${row.target}: reconnects`);
    }
    assert.match(r.stdout, /resume @reference\/sse/);
  });

  test("a profile whose WebSocket reconnect forgets the cursor loses messages: exit 7, not a pass", async (t) => {
    const url = await startByHand(t, process.execPath, ["--import", "tsx", SERVER, "--port", "0"]);
    const dir = mkdtempSync(join(tmpdir(), "lpb-transports-"));
    const seed = JSON.parse(readFileSync(SEED, "utf8"));
    // A profile with nowhere to send the cursor back: the cell is skipped before anything starts,
    // and with nothing else to run the run is refused (exit 2).
    seed.name = "no-resume";
    seed.transports.websocket.path = "/ws?key={key}";
    const nowhere = join(dir, "nowhere.json");
    writeFileSync(nowhere, JSON.stringify(seed));
    const refused = await runCli(CLI, [
      streamFile(dir),
      "--target",
      url,
      "--profile",
      nowhere,
      "--set",
      "transport=websocket",
      "--out",
      join(dir, "refused"),
      "-q",
    ]);
    assert.equal(refused.code, ExitCode.invalidInput, refused.stderr + refused.stdout);
    assert.match(refused.stdout + refused.stderr, /messages carry no cursor to resume from/);
    // One that sends it back where this server does not read it (from= instead of since=) is only
    // caught by measuring: the resumed socket starts from the present value.
    seed.transports.websocket.path = "/ws?key={key}[[&from={cursor}]]";
    const profile = join(dir, "no-resume.json");
    writeFileSync(profile, JSON.stringify(seed));
    const out = join(dir, "run");
    const r = await runCli(CLI, [
      streamFile(dir, { rate_per_s: 240, duration_s: 1 }),
      "--target",
      url,
      "--profile",
      profile,
      "--set",
      "transport=websocket",
      "--out",
      out,
      "-q",
    ]);
    assert.equal(r.code, ExitCode.thresholdFailed, r.stderr + r.stdout);
    const [row] = (JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { results: Row[] }).results;
    const m = metricsOf(row as Row);
    assert.equal(row?.transport, "websocket");
    assert.ok(m.reconnects > 0, "it reconnected");
    assert.ok(m.lost + m.duplicates > 0, `the counts caught it: lost ${m.lost}, duplicates ${m.duplicates}`);
    // The probe says so before any run: delivery works on both transports, resuming only over SSE.
    const probe = await runCli(PROBE, ["--target", url, "--profile", profile]);
    assert.equal(probe.code, ExitCode.ok, probe.stderr);
    assert.match(probe.stdout, /PASS +sse: a subscription receives a publish with the right value/);
    assert.match(probe.stdout, /PASS +sse: a resumed subscription loses nothing/);
    assert.match(probe.stdout, /PASS +websocket: a subscription receives a publish with the right value/);
    assert.match(
      probe.stdout,
      /FAIL +websocket: a resumed subscription loses nothing +published 2 while away, the resumed subscription got [13]/,
    );
  });

  test("a fan-out over every transport; a peer with long-poll only is skipped for the others, with a note", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-transports-"));
    const out = join(dir, "run");
    const { r, record } = await benchEveryTransport(
      scenarioFile(dir, "fan", { waiters: 200, keys: 2, sets: { count: 2 } }),
      "reference,node-http",
      out,
    );
    assert.deepEqual(record.skipped, [
      'fan @node-http/sse: skipped: its profile "seed-long-poll" offers no sse transport (the profile\'s "transports", docs/transports.md)',
      'fan @node-http/websocket: skipped: its profile "seed-long-poll" offers no websocket transport (the profile\'s "transports", docs/transports.md)',
    ]);
    assert.deepEqual(record.results.map((x) => x.target).sort(), [
      "node-http/long-poll",
      "reference/long-poll",
      "reference/sse",
      "reference/websocket",
    ]);
    for (const row of record.results) {
      const m = metricsOf(row);
      assert.equal(m.delivered, 200, row.target);
      assert.equal(m.duplicates, 0, row.target);
    }
    // The side-by-side table has a column per cell.
    assert.match(r.stdout, /reference\/long-poll +reference\/sse +reference\/websocket/);
  });

  test("a stream the target cannot keep up with is cut at its deadline: fell behind, lost not measured", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-transports-"));
    const out = join(dir, "run");
    // Each wake costs the server 5 ms of CPU (the gate's fault injection): 100 subscribers make a
    // set take 0.5 s, so 100 sets a second pile up, and the run must end by itself.
    const file = streamFile(dir, {
      waiters: 100,
      keys: 1,
      rate_per_s: 100,
      duration_s: 1,
      reconnect_after: undefined,
      deadlines: { ready_ms: 10_000, collect_ms: 1_000 },
    });
    const r = await runCli(CLI, [
      file,
      "--transports",
      "sse",
      "--reference-args=--fault-wake-cost-us 5000",
      "--out",
      out,
      "-q",
    ]);
    assert.equal(r.code, ExitCode.thresholdFailed, r.stderr + r.stdout);
    const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    const [row] = record.results as (Row & { warnings: string[] })[];
    const m = (row as Row).metrics;
    assert.equal(m.fell_behind, 1);
    assert.ok((m.sets_cut as number) > 0, `sets cut: ${m.sets_cut}`);
    assert.equal(m.lost, undefined, "lost is not measured when the stream was cut");
    assert.equal(m.expected, undefined);
    assert.ok((m.delivered as number) > 0);
    assert.match(
      (row as { warnings: string[] }).warnings.join("\n"),
      /cut 1 s after its 1 s schedule: \d+ of 100 sets/,
    );
    assert.match(r.stdout, /fell_behind ==0: 1/);
  });

  test("unknown transports and push for a timeout storm are refused or skipped, naming the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-transports-"));
    const typo = await runCli(CLI, [scenarioFile(dir, "fan"), "--transports", "long-poll,ss", "-q"]);
    assert.equal(typo.code, ExitCode.invalidInput);
    assert.match(
      typo.stderr,
      /--transports: unknown transport "ss" \(did you mean sse\?\); known: long-poll, sse, websocket/,
    );
    const field = await runCli(CLI, [scenarioFile(dir, "fan"), "--set", "transport=smoke-signals", "-q"]);
    assert.equal(field.code, ExitCode.invalidInput);
    assert.match(field.stderr, /transport/);
    // Nothing this run could run: refused before anything starts, with the reason.
    const storm = await runCli(CLI, [
      scenarioFile(dir, "storm", { type: "timeout-storm", waiters: 20, sets: undefined, timeout_s: 1 }),
      "--transports",
      "sse",
      "-q",
    ]);
    assert.equal(storm.code, ExitCode.invalidInput);
    assert.match(
      storm.stderr,
      /nothing to run: storm @reference\/sse: a timeout-storm scenario runs over long-poll only, not sse/,
    );
  });
});

describe("a stream on nchan", { skip: nchanMissing() }, () => {
  test("over long-poll (its cursor in the answer's headers) and SSE, with reconnects: nothing lost; its WebSocket cannot resume, so skipped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-transports-"));
    const out = join(dir, "run");
    const { record } = await benchEveryTransport(streamFile(dir), "nchan", out);
    assert.deepEqual(
      record.results.map((x) => [x.target, x.complete]),
      [
        ["nchan/long-poll", true],
        ["nchan/sse", true],
      ],
    );
    for (const row of record.results) {
      const m = metricsOf(row);
      assert.equal(m.expected, 30 * 60, row.target);
      assert.deepEqual(
        [m.delivered, m.lost, m.duplicates, m.out_of_order, m.errors, m.stream_cursor],
        [m.expected, 0, 0, 0, 0, 1],
        row.target,
      );
      assert.equal(m.reconnects, 30 * 3, `${row.target}: reconnects`);
    }
    assert.deepEqual(record.skipped, [
      `resume @nchan/websocket: skipped: it reconnects (reconnect_after), and the profile "nchan"'s websocket messages carry no cursor to resume from (transports.websocket.message, docs/transports.md)`,
    ]);
  });
});
