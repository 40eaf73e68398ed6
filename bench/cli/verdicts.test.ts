// Every run ends in a verdict: thresholds from the command line and the scenario file, correctness
// as a threshold by default, the exit code that says so, and the same verdict in the console,
// run.json, summary.md and junit.xml. Run from the CLI as a user would, against small fake targets
// whose behaviour is known.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ExitCode } from "../exit-codes.ts";
import { type FakeTargetOptions, listenFakeTarget } from "../testing/fake-targets.ts";
import { runCli } from "../testing/run-cli.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const CLI = new URL("./bench.ts", import.meta.url).pathname;

async function benchAgainst(
  options: FakeTargetOptions,
  args: string[],
  scenario: Record<string, unknown> = {},
) {
  const target = await listenFakeTarget(options);
  const dir = mkdtempSync(join(tmpdir(), "lpb-verdict-"));
  const out = join(dir, "run");
  const file = scenarioFile(dir, "fan", { waiters: 100, ...scenario });
  try {
    const outcome = await runCli(CLI, [file, "--target", target.url, "--out", out, "-q", ...args]);
    return { ...outcome, out };
  } finally {
    target.server.closeAllConnections();
    target.server.close();
  }
}

const read = (out: string, name: string) => readFileSync(join(out, name), "utf8");

describe("verdicts from the CLI", () => {
  test("a target that answers every message twice fails the default thresholds: exit 7, said everywhere", async () => {
    const r = await benchAgainst({ answerTwice: true }, []);
    assert.equal(r.code, ExitCode.thresholdFailed, r.stderr);
    assert.match(
      r.stdout,
      /^verdict: FAIL: 1 of \d+ thresholds failed\n {2}✗ fan @http:\/\/127\.0\.0\.1:\d+: duplicates ==0: 100, 1 repeat \[default\]/,
    );
    const record = JSON.parse(read(r.out, "run.json"));
    assert.equal(record.exit_code, 7);
    assert.equal(record.complete, true, "everything was measured: the verdict is what failed");
    const failed = record.thresholds.filter((t: { pass: boolean }) => !t.pass);
    assert.deepEqual(
      failed.map((t: { metric: string; value: number }) => [t.metric, t.value]),
      [["duplicates", 100]],
    );
    assert.match(read(r.out, "summary.md"), /\*\*FAIL\*\*: 1 of \d+ thresholds failed \(exit code 7\)/);
    assert.match(read(r.out, "summary.md"), /\| ✗ \| fan \| [^|]+ \| duplicates \| ==0 \| 100 \|/);
    const junit = read(r.out, "junit.xml");
    assert.match(junit, /<testsuites [^>]*tests="(\d+)" failures="1">/);
    assert.match(
      junit,
      /<testcase name="[^"]+: duplicates ==0"[^>]*>\s*<failure message="duplicates ==0: 100 \[default\]"/,
    );
    assert.equal(
      (junit.match(/<testcase /g) ?? []).length,
      record.thresholds.length,
      "one test case per threshold",
    );

    const lifted = await benchAgainst({ answerTwice: true }, ["--threshold", "duplicates:off"]);
    assert.equal(lifted.code, ExitCode.ok, lifted.stderr);
    assert.match(lifted.stdout, /^verdict: PASS: \d+ of \d+ thresholds met/);
  });

  test("a threshold from the command line and one from the scenario file, judged on the figure", async () => {
    // Answers 40 ms after the set: latency p99 is at least 40 ms.
    const strict = await benchAgainst({ delayMs: 40 }, ["--threshold", "fan:latency_p99_ms<0.001"]);
    assert.equal(strict.code, ExitCode.thresholdFailed, strict.stderr);
    assert.match(strict.stdout, /✗ fan @\S+: latency_p99_ms <0\.001: \d+(\.\d)?, 1 repeat \[flag\]/);
    assert.match(strict.stdout, /\nverdict: FAIL: 1 of \d+ thresholds failed\n$/, "and again at the end");

    const fromFile = await benchAgainst({ delayMs: 40 }, [], {
      thresholds: { latency_p50_ms: ">=40", delivered: "==100" },
    });
    assert.equal(fromFile.code, ExitCode.ok, fromFile.stdout);
    const record = JSON.parse(read(fromFile.out, "run.json"));
    const written = record.thresholds.filter((t: { source: string }) => t.source === "scenario");
    assert.deepEqual(
      written.map((t: { metric: string; pass: boolean }) => [t.metric, t.pass]),
      [
        ["latency_p50_ms", true],
        ["delivered", true],
      ],
    );
  });

  test("--list-metrics names every metric a threshold may use, with its unit, direction and kind", async () => {
    const r = await runCli(CLI, ["--list-metrics"]);
    assert.equal(r.code, ExitCode.ok, r.stderr);
    assert.match(r.stdout, /^metric\s+unit\s+better\s+kind\s+what it is$/m);
    assert.match(r.stdout, /^latency_p99_ms\s+ms\s+smaller\s+timing\s+/m);
    assert.match(r.stdout, /^fell_behind\s+count\s+smaller\s+correctness\s+/m);
    assert.match(r.stdout, /^late_arrivals\s+count\s+smaller\s+count\s+/m);
  });

  test("a threshold on an unknown metric is exit 2 with a suggestion, from a flag or a file, before any load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-verdict-"));
    const flag = await runCli(CLI, ["fanout-1k", "--threshold", "latncy_p99_ms<5", "--out", join(dir, "a")]);
    assert.equal(flag.code, ExitCode.invalidInput);
    assert.match(
      flag.stderr,
      /--threshold 'latncy_p99_ms<5': threshold on "latncy_p99_ms": no such metric \(did you mean latency_p99_ms\?\)/,
    );
    const elsewhere = await runCli(CLI, [
      "fanout-1k",
      "--threshold",
      "fanout-10k:latency_p99_ms<5",
      "--out",
      join(dir, "c"),
    ]);
    assert.equal(elsewhere.code, ExitCode.invalidInput);
    assert.match(
      elsewhere.stderr,
      /--threshold names scenario "fanout-10k", which this run does not have \(it runs fanout-1k\)/,
    );
    const file = scenarioFile(dir, "bad", { thresholds: { lots: "==0", duplicates: "none" } });
    const bad = await runCli(CLI, [file, "--out", join(dir, "b")]);
    assert.equal(bad.code, ExitCode.invalidInput);
    assert.match(bad.stderr, /bad\.json: thresholds: threshold on "lots": no such metric/);
    assert.match(bad.stderr, /bad\.json: thresholds: threshold "duplicates": "none" is not a condition/);
  });
});

describe("waiters that arrive after the barrier", () => {
  test("are delivered and counted apart, not in the fan-out's latency", async () => {
    // A listen backlog of 1, and a target that claims every waiter parked: the barrier passes and
    // the set goes out while most waiters are still retrying their SYN.
    const r = await benchAgainst({ tinyBacklog: true, statsWaiters: 60 }, [], {
      waiters: 60,
      arrival: { type: "all-at-once" },
      deadlines: { ready_ms: 5_000, collect_ms: 10_000 },
    });
    const record = JSON.parse(read(r.out, "run.json"));
    const m = record.results[0].metrics;
    assert.ok(m.late_arrivals > 0, `some waiters came late: ${JSON.stringify(m)}`);
    assert.ok(m.delivered >= m.late_arrivals, "the late ones are among the delivered");
    // The latency histogram holds only the waiters that were there when the value was sent.
    const hlog = read(r.out, "fan.hlog");
    assert.ok(hlog.includes("latency."), "a latency histogram was written");
    const latencyCount = readFileSync(join(r.out, "latency-fan.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => Number(line.split(",")[4]))
      .reduce((a, b) => Math.max(a, b), 0);
    assert.equal(latencyCount, m.delivered - m.late_arrivals, "late arrivals are not in the latency");
    assert.match(record.results[0].warnings.join("\n"), /waiters asked after their value was sent/);
  });
});
