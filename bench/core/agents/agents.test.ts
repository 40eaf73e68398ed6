// Load from several machines, on this one: three agents as separate processes (each with its own
// 127.0.0.x source address, one with its clock skewed on purpose) coordinated through a real
// redis-server, driving the reference server. The merged histogram is the agents' added exactly,
// totals are exact, the skewed clock is corrected within its stated uncertainty, a lost agent is
// reported by name (exit 6), and too few agents is an error before any load.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { metricOf, testContext } from "../../testing/run-context.ts";
import { burstScenario } from "../../testing/scenario-file.ts";
import { decodeHistogram, encodeHistogram, newHistogram } from "../metrics/histograms.ts";
import { processTree } from "../metrics/proc.ts";
import { failureOf, isComplete } from "../result.ts";
import { clockUncertaintyWarning, runScenario } from "../run.ts";
import { socketsNeeded } from "../scenario.ts";
import { RedisServer, redisMissing } from "../targets/redis-server.ts";
import { spawnReference } from "../targets/reference.ts";
import { measureOffset } from "./clock.ts";
import { AgentPool, dealByCores } from "./pool.ts";

const AGENT_MAIN = new URL("../../cli/agent.ts", import.meta.url).pathname;
const SKEW_MS = 300;

function startAgent(redisUrl: string, name: string, source: string, skewMs = 0): Promise<ChildProcess> {
  const args = ["--import", "tsx", AGENT_MAIN, "--redis", redisUrl, "--name", name, "--sources", source];
  if (skewMs !== 0) args.push("--clock-skew-ms", String(skewMs));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      if (c.toString().includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`agent ${name} exited (${code}): ${out}`)));
  });
}

describe("pure parts", () => {
  test("workers are dealt over agents by cores, at least one each", () => {
    assert.deepEqual(dealByCores(3, [{ cores: 2 }, { cores: 2 }, { cores: 2 }]), [1, 1, 1]);
    assert.deepEqual(dealByCores(8, [{ cores: 16 }, { cores: 2 }, { cores: 2 }]), [6, 1, 1]);
    assert.deepEqual(dealByCores(7, [{ cores: 4 }, { cores: 4 }]), [4, 3]);
  });

  test("the clock offset keeps the tightest exchange, and says how tight", async () => {
    // Remote clock = local + 5 ms; round trips of 400, 100 and 900 µs (the middle one is kept).
    let local = 1_000_000_000n;
    const trips = [400_000n, 100_000n, 900_000n];
    let k = 0;
    const now = () => local;
    const time = async () => {
      const trip = trips[k++ % trips.length] as bigint;
      local += trip / 2n;
      const remoteNs = local + 5_000_000n;
      local += trip / 2n;
      return [String(remoteNs / 1_000_000_000n), String((remoteNs % 1_000_000_000n) / 1_000n)];
    };
    const o = await measureOffset(time, now, 3);
    assert.equal(o.offsetNs, 5_000_000n);
    assert.equal(o.uncertaintyNs, 51_000n, "half the shortest round trip, plus TIME's 1 µs resolution");
  });
});

describe("three agents against the reference server", { skip: redisMissing() ?? false }, () => {
  let redis: RedisServer;
  const agents = new Map<string, ChildProcess>();
  let pool: AgentPool;
  before(async () => {
    redis = await RedisServer.start();
    const started = await Promise.all([
      startAgent(redis.url, "agent-a", "127.0.0.21"),
      startAgent(redis.url, "agent-b", "127.0.0.22"),
      startAgent(redis.url, "agent-skewed", "127.0.0.23", SKEW_MS),
    ]);
    for (const [i, name] of ["agent-a", "agent-b", "agent-skewed"].entries())
      agents.set(name, started[i] as ChildProcess);
    pool = await AgentPool.connect(redis.url, 3);
    // (The tests below run in order: the loss test kills agent-b, so it comes after the others.)
  });
  after(async () => {
    await pool?.close();
    for (const a of agents.values()) a.kill("SIGTERM");
    await redis?.stop();
  });

  test("merged exactly: the run's histogram is the agents' added, totals exact, a skewed clock corrected", async () => {
    const scenario = burstScenario({
      name: "agents-small",
      waiters: 900,
      keys: 3,
      sets: { count: 3, window_ms: 0 },
    });
    const r = await runScenario(
      scenario,
      testContext((s) => spawnReference({ waiters: socketsNeeded(s) }), { agents: pool, workers: undefined }),
    );
    assert.ok(isComplete(r), failureOf(r)?.message);
    assert.equal(metricOf(r, "delivered"), 900);
    assert.equal(metricOf(r, "missing"), 0);
    const parts = r.agents ?? [];
    assert.deepEqual(parts.map((a) => a.name).sort(), ["agent-a", "agent-b", "agent-skewed"]);
    assert.equal(
      parts.reduce((n, a) => n + a.waiters, 0),
      900,
    );
    assert.equal(
      parts.reduce((n, a) => n + a.delivered, 0),
      900,
    );
    // The merged histogram equals the sum of the agents' own: same count, same percentiles.
    const sum = newHistogram();
    for (const a of parts) sum.add(decodeHistogram(a.latency as string));
    const merged = decodeHistogram(r.histograms.latency as string);
    assert.equal(merged.totalCount, 900);
    assert.equal(sum.totalCount, merged.totalCount);
    for (const p of [50, 90, 99, 100])
      assert.equal(sum.getValueAtPercentile(p), merged.getValueAtPercentile(p), `p${p}`);
    // The skewed agent: its offset found within its stated uncertainty, and its latencies corrected
    // (uncorrected they would read 300 ms longer than the others'; 150 ms of room for a loaded machine).
    const skewed = parts.find((a) => a.name === "agent-skewed");
    assert.ok(skewed);
    assert.ok(
      Math.abs(skewed.clock_offset_ms + SKEW_MS) <= skewed.clock_uncertainty_ms,
      `offset ${skewed.clock_offset_ms} ms ± ${skewed.clock_uncertainty_ms} ms, true −${SKEW_MS} ms`,
    );
    // Corrected, its p50 is nearer the others' than the skew it had (uncorrected: 300 ms off). Both
    // bounds are the test's own skew, not how fast this machine is.
    const others = parts.filter((a) => a !== skewed).map((a) => a.latency_p50_ms as number);
    assert.ok(
      (skewed.latency_p50_ms as number) < Math.max(...others) + SKEW_MS / 2,
      `corrected p50 ${skewed.latency_p50_ms} ms vs the others' ${others}`,
    );
    for (const a of parts)
      assert.ok(
        a.clock_uncertainty_ms < SKEW_MS / 2,
        `${a.name}: uncertainty ${a.clock_uncertainty_ms} ms, too wide to tell a ${SKEW_MS} ms skew`,
      );
  });

  test("agents and coordinator survive Redis restarting: the agents announce themselves again, the next run completes", async () => {
    await redis.pause();
    await new Promise((r) => setTimeout(r, 500));
    await redis.resume();
    let live: string[] = [];
    for (let i = 0; i < 50 && live.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 200));
      live = (await pool.live().catch(() => [])).map((a) => a.name);
    }
    assert.deepEqual(live, ["agent-a", "agent-b", "agent-skewed"]);
    const r = await runScenario(
      burstScenario({ name: "after-restart", waiters: 300, keys: 3, sets: { count: 3, window_ms: 0 } }),
      testContext((s) => spawnReference({ waiters: socketsNeeded(s) }), { agents: pool, workers: undefined }),
    );
    assert.ok(isComplete(r), failureOf(r)?.message);
    assert.equal(metricOf(r, "delivered"), 300);
    assert.deepEqual(
      r.agents?.map((a) => a.delivered),
      [100, 100, 100],
    );
  });

  test("an agent killed mid-run is reported by name; its waiters are the load generator's loss (exit 6)", async () => {
    const scenario = burstScenario({
      name: "agents-lost",
      waiters: 900,
      keys: 3,
      arrival: { type: "uniform", window_ms: 4_000 },
      sets: { count: 3, window_ms: 0 },
    });
    const victim = agents.get("agent-b") as ChildProcess;
    // Killed once it has forked a worker for this run (and the waiters are arriving), however long
    // the target took to start: a process under it that was not there before this run is that
    // worker. (Waiting for its tree to empty first raced: the previous run's worker can exit and
    // this run's appear between two looks.)
    const before = new Set(processTree(victim.pid as number));
    const killer = setInterval(() => {
      if (processTree(victim.pid as number).some((pid) => !before.has(pid))) {
        clearInterval(killer);
        setTimeout(() => victim.kill("SIGKILL"), 500);
      }
    }, 20);
    const r = await runScenario(
      scenario,
      testContext((s) => spawnReference({ waiters: socketsNeeded(s) }), { agents: pool, workers: undefined }),
    );
    clearInterval(killer);
    const failure = failureOf(r);
    assert.ok(failure, "the run is incomplete");
    assert.equal(failure.exitCode, 6);
    assert.equal(failure.code, "LPB_ERR_AGENTS");
    assert.match(failure.message, /agent agent-b was lost mid-run/);
    assert.equal(metricOf(r, "load_generator_lost_waiters"), 300, "agent-b's third of the waiters");
    assert.equal(metricOf(r, "missing"), undefined, "not counted as notifications the server missed");
  });

  test("too few agents is an error before any load is sent", async () => {
    await assert.rejects(
      AgentPool.connect(redis.url, 5, { waitMs: 500 }),
      (e: Error & { exitCode?: number }) =>
        e.exitCode === 6 && /live agent\(s\) .*, 5 needed \(--min-agents 5\)/.test(e.message),
    );
  });
});

describe("clock uncertainty against the latencies", () => {
  test("an agent whose clock is known less well than 5% of the p50 latency is named in a warning", () => {
    const h = newHistogram();
    for (let i = 0; i < 100; i++) h.recordValue(10_000); // p50 10 ms (µs values)
    const latency = encodeHistogram(h);
    const agent = (name: string, uncertainty: number) => ({
      name,
      workers: 1,
      waiters: 1,
      delivered: 1,
      errors: 0,
      clock_offset_ms: 0,
      clock_uncertainty_ms: uncertainty,
    });
    assert.equal(clockUncertaintyWarning("s", [agent("tight", 0.1)], latency), undefined);
    const w = clockUncertaintyWarning("s", [agent("tight", 0.1), agent("loose", 0.8)], latency);
    assert.match(
      w ?? "",
      /agent\(s\) loose \(± 0\.800 ms\) is uncertain by more than 5% of the p50 latency \(10\.0\d\d ms\)/,
    );
  });
});
