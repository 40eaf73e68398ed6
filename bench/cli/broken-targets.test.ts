// Targets that are broken in the ways a server under test can be: each run from the CLI as a user
// would (`bench --target URL scenario.json`), and each must end as the target's failure (a non-zero
// exit that is not the harness's own 70), print no figure for what did not happen (nothing per
// notification when nothing was delivered, nothing negative), and keep the harness's memory bounded.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tsxNodeArgs } from "../child-process.ts";
import { readProcessTree } from "../core/metrics/proc.ts";
import { type FakeTargetOptions, listenFakeTarget } from "../testing/fake-targets.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const CLI = new URL("./bench.ts", import.meta.url).pathname;
/** The harness (coordinator and driver workers together) must stay under this RSS. */
const RSS_BOUND_BYTES = 512 * 2 ** 20;

interface Outcome {
  code: number | null;
  stderr: string;
  peakRssBytes: number;
  summary: string;
}

async function benchAgainst(options: FakeTargetOptions, name: string, waiters = 200): Promise<Outcome> {
  const target = await listenFakeTarget(options);
  const dir = mkdtempSync(join(tmpdir(), "lpb-broken-"));
  const out = join(dir, "run");
  const scenario = scenarioFile(dir, name, {
    waiters,
    deadlines: { ready_ms: 3_000, collect_ms: 3_000 },
  });
  const child = spawn(
    process.execPath,
    [...tsxNodeArgs(), CLI, scenario, "--target", target.url, "--out", out],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    const s = child.pid === undefined ? undefined : readProcessTree(child.pid);
    if (s) peakRssBytes = Math.max(peakRssBytes, s.rssBytes);
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(sampler);
  target.server.closeAllConnections();
  target.server.close();
  process.stderr.write(
    `# ${name}: exit ${code}, peak harness RSS ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
  );
  let summary = "";
  try {
    summary = readFileSync(join(out, "summary.csv"), "utf8");
  } catch {
    // a run that ended before anything was measured writes run.json only
  }
  return { code, stderr, peakRssBytes, summary };
}

/** Exit 3 naming why, no negative figure, no server CPU per notification, the harness's RSS bounded. */
function assertFailedHonestly(o: Outcome, why: RegExp): void {
  assert.notEqual(o.code, 0, o.stderr);
  assert.notEqual(o.code, 70, `the harness's own failure: ${o.stderr}`);
  assert.equal(o.code, 3, o.stderr);
  assert.match(o.stderr, why);
  assert.doesNotMatch(o.summary, /server_cpu_per_notification_us/, "no server CPU per notification");
  const negative = o.summary.split("\n").filter((line) => /,-\d/.test(line));
  assert.deepEqual(negative, [], "no negative figure");
  assert.ok(o.peakRssBytes > 0 && o.peakRssBytes < RSS_BOUND_BYTES, `harness RSS ${o.peakRssBytes} bytes`);
}

describe("broken targets end as the target's failure, with no invented figure", () => {
  test("a target that wakes nobody", async () => {
    const o = await benchAgainst({ dropEvery: 1 }, "never-wakes");
    assertFailedHonestly(o, /no waiter got its value/);
    assert.doesNotMatch(o.summary, /_per_notification_us/, "nothing per notification: there was none");
  });

  test("a target whose stats page says nothing ever parks", async () => {
    const o = await benchAgainst({ statsWaiters: 0 }, "zero-stats");
    assertFailedHonestly(o, /readiness deadline \(3000 ms\) passed with 0 of 200 waiters parked/);
    assert.doesNotMatch(o.summary, /all_parked_ms/, "no time to all parked: they never were");
  });

  test("a target whose stats page gives negative CPU and memory", async () => {
    const o = await benchAgainst({ negativeStats: true }, "negative-stats");
    assertFailedHonestly(o, /negative cpu figure/);
    assert.doesNotMatch(o.summary, /server_cpu_/, "no server CPU figure from a counter that cannot be true");
  });

  test("a target that streams an endless chunked answer to each of 1,000 waiters", async () => {
    // Up to 1 MiB per answer, 1,000 answers: a GiB, were it not for the driver's budget.
    const o = await benchAgainst({ chunkedFlood: true }, "chunked-flood", 1_000);
    assertFailedHonestly(o, /every waiter failed|chunked response body over/);
  });

  test("a target that closes every connection", async () => {
    const o = await benchAgainst({ closeAll: true }, "closes-all");
    assert.notEqual(o.code, 0);
    assert.notEqual(o.code, 70, o.stderr);
    assert.equal(o.code, 3, o.stderr);
    assert.ok(o.peakRssBytes < RSS_BOUND_BYTES);
  });
});
