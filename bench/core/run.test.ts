// The engine end to end at small sizes: against the reference server (counts, histograms, files),
// against a target of known latency (the measurement is right, not just present), and against a
// target that dies mid-run (exit 3, what was measured is kept).

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { tsxNodeArgs } from "../child-process.ts";
import { LATENCY_COLUMNS, SUMMARY_COLUMNS, TIMESERIES_COLUMNS } from "../output/csv.ts";
import { writeRunFolder } from "../output/results-folder.ts";
import { listenFakeTarget } from "../testing/fake-targets.ts";
import { metricOf, testContext } from "../testing/run-context.ts";
import { burstScenario } from "../testing/scenario-file.ts";
import { decodeHistogram } from "./metrics/histograms.ts";
import { processTree } from "./metrics/proc.ts";
import { readHostLimits } from "./preflight.ts";
import { failureOf, isComplete } from "./result.ts";
import { runScenario } from "./run.ts";
import { environment, runRecord } from "./run-record.ts";
import { socketsNeeded } from "./scenario.ts";
import { attachTarget } from "./targets/attach.ts";
import { seedProfile } from "./targets/builtin-profiles.ts";
import { spawnReference } from "./targets/reference.ts";
import { spawnTarget } from "./targets/spawn.ts";

const FAKE_TARGET = new URL("../testing/fake-targets.ts", import.meta.url).pathname;

const scenario = burstScenario;

const context = testContext;
const metric = metricOf;

function csvRows(text: string): { header: string[]; rows: string[][] } {
  const [head, ...rest] = text.trim().split("\n");
  return { header: (head ?? "").split(","), rows: rest.map((l) => l.split(",")) };
}

describe("engine against the reference server", () => {
  test("300 waiters over 3 keys, two workers: every notification delivered and counted once", async () => {
    const s = scenario();
    const result = await runScenario(
      s,
      context((sc) => spawnReference({ waiters: socketsNeeded(sc) }), { targetName: "reference" }),
    );
    assert.equal(failureOf(result), undefined, failureOf(result)?.message);
    assert.equal(isComplete(result), true);
    assert.equal(metric(result, "expected"), 300);
    assert.equal(metric(result, "delivered"), 300);
    assert.equal(metric(result, "missing"), 0);
    assert.equal(metric(result, "duplicates"), 0);
    assert.equal(metric(result, "errors"), 0);
    assert.equal(metric(result, "parked_at_ready"), 300);
    assert.equal(metric(result, "parked_after_drain"), 0);
    assert.equal(decodeHistogram(result.histograms.latency ?? "").totalCount, 300);
    assert.equal(decodeHistogram(result.histograms.connect ?? "").totalCount, 300);
    assert.deepEqual(
      result.phases.map((p) => p.phase),
      ["preflight", "start", "connect", "ready", "fire", "collect", "drain", "stop"],
    );
    assert.ok(result.timeseries.length > 0);

    const dir = mkdtempSync(join(tmpdir(), "lpb-run-"));
    const record = runRecord(
      {
        tool: "longpoll-bench",
        run_id: "t",
        started_at: new Date().toISOString(),
        finished_at: undefined,
        complete: true,
        exit_code: 0,
        command: [],
        suite: undefined,
        environment: environment(readHostLimits()),
        targets: ["reference"],
        repeat: 1,
        scenarios: [s],
        skipped: [],
      },
      [result],
    );
    writeRunFolder(dir, record, [result], Date.now());
    const summary = csvRows(readFileSync(join(dir, "summary.csv"), "utf8"));
    assert.deepEqual(summary.header, [...SUMMARY_COLUMNS]);
    const delivered = summary.rows.find((r) => r[3] === "delivered");
    assert.deepEqual(delivered, ["small", "reference", "0", "delivered", "300", "count"]);
    const latency = csvRows(readFileSync(join(dir, "latency-small.csv"), "utf8"));
    assert.deepEqual(latency.header, [...LATENCY_COLUMNS]);
    assert.equal(latency.rows.at(-1)?.[4], "300", "the distribution ends at the total count");
    for (const row of latency.rows) assert.ok(Number.isFinite(Number(row[2])), "value_ms is a number");
    const timeseries = csvRows(readFileSync(join(dir, "timeseries-small.csv"), "utf8"));
    assert.deepEqual(timeseries.header, [...TIMESERIES_COLUMNS]);
    assert.ok(timeseries.rows.length > 0);
    const hlog = readFileSync(join(dir, "small.hlog"), "utf8");
    assert.match(hlog, /latency\.reference\.r0/);
    const json = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    assert.equal(json.results[0].metrics.delivered, 300);
    assert.equal(json.environment.node, process.version);
  });

  test("connect only (no sets): parked within the window, then drained to zero", async () => {
    const result = await runScenario(
      scenario({ sets: { count: 0, window_ms: 0 }, waiters: 200, keys: 1 }),
      context((sc) => spawnReference({ waiters: socketsNeeded(sc) })),
    );
    assert.equal(isComplete(result), true, failureOf(result)?.message);
    assert.equal(metric(result, "parked_at_ready"), 200);
    assert.equal(metric(result, "delivered"), undefined);
    assert.equal(metric(result, "parked_after_drain"), 0);
    assert.equal(decodeHistogram(result.histograms.connect ?? "").totalCount, 200);
  });
});

describe("measurement against a target of known latency", () => {
  let fake: { server: Server; url: string };
  after(() => fake?.server.close());

  test("a target that answers D ms after the set: no latency under D, the largest is the time to the last delivery", async () => {
    const D = 100;
    fake = await listenFakeTarget({ delayMs: D });
    const result = await runScenario(
      scenario({ waiters: 200, keys: 1, sets: { count: 1, window_ms: 0 } }),
      context(() => attachTarget(fake.url, seedProfile), { targetProcesses: () => undefined }),
    );
    assert.equal(isComplete(result), true, failureOf(result)?.message);
    assert.equal(metric(result, "delivered"), 200);
    const p50 = metric(result, "latency_p50_ms") as number;
    const max = metric(result, "latency_max_ms") as number;
    const last = metric(result, "time_to_last_delivery_ms") as number;
    // Latency runs from the set's scheduled send: never under the target's delay, however fast the
    // machine. With one set, sent at the fire instant, the largest latency is the time from that
    // instant to the last delivery (measured apart, by the coordinator): the same origin, within
    // the histogram's precision. No bound on how long it may take: that is the machine's.
    assert.ok(p50 >= D, `p50 ${p50} ms under the ${D} ms delay`);
    assert.ok(max >= p50);
    assert.ok(Math.abs(max - last) <= 0.01 * last, `max latency ${max} ms, time to last delivery ${last} ms`);
  });
});

describe("faults", () => {
  test("a target that dies mid-run: exit 3 naming it, results so far kept and marked incomplete", async () => {
    const result = await runScenario(
      scenario({ waiters: 100, keys: 1, sets: { count: 1, window_ms: 0 } }),
      context(() =>
        spawnTarget({
          name: "dying",
          command: process.execPath,
          args: [...tsxNodeArgs(), FAKE_TARGET, "--die-on-set"],
          profile: seedProfile,
          ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
        }),
      ),
    );
    assert.equal(isComplete(result), false);
    assert.equal(failureOf(result)?.exitCode, 3);
    assert.match(failureOf(result)?.message ?? "", /"dying".*exited with code 9/);
    assert.equal(metric(result, "parked_at_ready"), 100, "what was measured before the death is kept");
    assert.ok(result.histograms.connect, "the workers' histograms are kept");
  });

  test("a target that does not start: exit 3 with its output", async () => {
    const result = await runScenario(
      scenario(),
      context(() =>
        spawnTarget({
          name: "broken",
          command: process.execPath,
          args: ["-e", "console.error('cannot bind: no such thing'); process.exit(1)"],
          profile: seedProfile,
          ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
        }),
      ),
    );
    assert.equal(failureOf(result)?.exitCode, 3);
    assert.match(failureOf(result)?.message ?? "", /exited with code 1.*\n.*cannot bind/s);
  });

  test("an abort (Ctrl-C) ends the run with exit 5 and keeps what was measured", async () => {
    const controller = new AbortController();
    const { InterruptedError } = await import("../errors.ts");
    const running = runScenario(
      scenario({ waiters: 200, arrival: { type: "uniform", window_ms: 3000 } }),
      context((sc) => spawnReference({ waiters: socketsNeeded(sc) }), {
        signal: controller.signal,
        progress: {
          runStart() {},
          phase: (_s, p) => {
            if (p === "connect") setTimeout(() => controller.abort(new InterruptedError("SIGINT")), 300);
          },
          detail() {},
          line() {},
          done() {},
        },
      }),
    );
    const result = await running;
    assert.equal(isComplete(result), false);
    assert.equal(failureOf(result)?.exitCode, 5);
    assert.ok(result.phases.some((p) => p.phase === "connect"));
    assert.ok(
      decodeHistogram(result.histograms.connect ?? "").totalCount > 0,
      "connections made so far are kept",
    );
  });
});

/** This test process's driver workers now (its descendants whose command line names the worker). */
function driverWorkerPids(): number[] {
  return processTree(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("driver/worker.ts");
    } catch {
      return false;
    }
  });
}

describe("the driver's scheduling policy (--driver-sched)", () => {
  // Linux's policy numbers in /proc/PID/task/TID/sched: 0 SCHED_OTHER (normal), 3 SCHED_BATCH.
  const policiesOf = (pid: number): string[] =>
    readdirSync(`/proc/${pid}/task`).map(
      (tid) =>
        /^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/sched`, "utf8"))?.[1] ?? "?",
    );
  const policiesAtFire = async (driverSched: "batch" | "normal" | undefined) => {
    const seen: string[] = [];
    const result = await runScenario(
      scenario({ waiters: 40, keys: 1, sets: { count: 1, window_ms: 0 } }),
      context((sc) => spawnReference({ waiters: socketsNeeded(sc) }), {
        workers: 2,
        driverSched,
        progress: {
          runStart() {},
          phase(_s, p) {
            if (p === "fire") for (const pid of driverWorkerPids()) seen.push(...policiesOf(pid));
          },
          detail() {},
          line() {},
          done() {},
        },
      }),
    );
    assert.equal(failureOf(result), undefined, failureOf(result)?.message);
    assert.equal(metric(result, "delivered"), 40);
    return seen;
  };

  test("batch: every thread of every worker runs SCHED_BATCH; normal and absent leave them SCHED_OTHER", async () => {
    const batch = await policiesAtFire("batch");
    assert.ok(batch.length >= 2, "two workers' threads seen");
    assert.deepEqual([...new Set(batch)], ["3"]);
    assert.deepEqual([...new Set(await policiesAtFire("normal"))], ["0"]);
    assert.deepEqual([...new Set(await policiesAtFire(undefined))], ["0"]);
  });
});

describe("pinned cores (--cpus)", () => {
  test("the target's threads and the driver workers run on the CPUs given; a CPU that is not here is exit 2", async () => {
    let targetPid: number | undefined;
    const allowed: Record<string, string> = {};
    const cpusOf = (pid: number) =>
      /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "";
    const result = await runScenario(
      scenario({ waiters: 60, keys: 1, sets: { count: 1, window_ms: 0 } }),
      context(
        async (sc) => {
          const t = await spawnReference({ waiters: socketsNeeded(sc) });
          targetPid = t.pid;
          return t;
        },
        {
          workers: 1,
          cpus: { target: "0", driver: "1" },
          progress: {
            runStart() {},
            phase(_s, p) {
              if (p === "fire" && targetPid !== undefined) {
                allowed.target = cpusOf(targetPid);
                allowed.driver = driverWorkerPids().map(cpusOf).join(",");
              }
            },
            detail() {},
            line() {},
            done() {},
          },
        },
      ),
    );
    assert.equal(failureOf(result), undefined, failureOf(result)?.message);
    assert.equal(allowed.target, "0");
    assert.match(allowed.driver ?? "", /^1(,1)*$/);
    let unpinnedPid: number | undefined;
    const bad = await runScenario(
      scenario({ waiters: 10, keys: 1, sets: { count: 1, window_ms: 0 } }),
      context(
        async (sc) => {
          const t = await spawnReference({ waiters: socketsNeeded(sc) });
          unpinnedPid = t.pid;
          return t;
        },
        { cpus: { target: "4095" } },
      ),
    );
    assert.equal(failureOf(bad)?.exitCode, 2);
    assert.match(failureOf(bad)?.message ?? "", /--cpus: taskset could not pin/);
    // The target that could not be pinned was stopped, not left running.
    assert.ok(unpinnedPid !== undefined);
    assert.throws(() => process.kill(unpinnedPid as number, 0), /ESRCH/, "the unpinned target is gone");
  });
});
