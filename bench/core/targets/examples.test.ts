// Users' own servers, end to end through the CLIs: the two example servers (neither speaks this
// project's protocol) are probed, run side by side with the reference server in a burst, and
// streamed without loss, all through their target files and profiles; a server measured with the
// wrong profile fails with a pointer to the probe, and with the right one it ends in a table; a
// command that dies at start leaves its output in the run folder.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startByHand } from "../../testing/by-hand.ts";
import { runCli } from "../../testing/run-cli.ts";
import { scenarioFile } from "../../testing/scenario-file.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const BENCH = join(ROOT, "bench/cli/bench.ts");
const PROBE = join(ROOT, "bench/cli/probe.ts");
const CHANNEL = join(ROOT, "examples/channel-server/target.json");
const BATCH = join(ROOT, "examples/batch-server/target.json");
/** The re-poll asks for the last index seen + 1, in the query ({cursor+1}). */
const INDEX = join(ROOT, "examples/index-server/target.json");
/** An index response header sent back as a query parameter, with a wait duration (blocking queries). */
const BLOCKING = join(ROOT, "examples/blocking-server/target.json");

const csvMetric = (dir: string, target: string, metric: string): number[] =>
  readFileSync(join(dir, "summary.csv"), "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(","))
    .filter((c) => c[1] === target && c[3] === metric)
    .map((c) => Number(c[4]));

describe("the example servers through their profiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-examples-"));

  for (const [name, file] of [
    ["channel-server", CHANNEL],
    ["batch-server", BATCH],
    ["index-server", INDEX],
    ["blocking-server", BLOCKING],
  ] as const) {
    test(`probe ${name}: every check passes`, async () => {
      const r = await runCli(PROBE, [file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      for (const item of [
        "a wait parks",
        "a publish wakes it with the right value",
        "stats count the parked wait",
        "a timeout is recognised",
        "a cursor re-poll loses nothing",
      ]) {
        assert.match(r.stdout, new RegExp(`PASS\\s+${item}`), r.stdout);
      }
    });
  }

  test("a burst, side by side with the reference server: every notification, the profiles in run.json", async () => {
    const scenario = scenarioFile(dir, "ex-burst", { waiters: 120, keys: 3, sets: { count: 3 } });
    const out = join(dir, "burst");
    const r = await runCli(BENCH, [
      scenario,
      "--targets",
      `reference,${CHANNEL},${BATCH},${INDEX},${BLOCKING}`,
      "--out",
      out,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const target of ["reference", "channel-server", "batch-server", "index-server", "blocking-server"]) {
      assert.deepEqual(csvMetric(out, target, "delivered"), [120], target);
      assert.deepEqual(csvMetric(out, target, "missing"), [0], target);
    }
    assert.ok(existsSync(join(out, "peers.csv")));
    // The side-by-side table on the console, one column per target.
    assert.match(
      r.stdout,
      /^scenario\s+one repeat\s+reference\s+channel-server\s+batch-server\s+index-server\s+blocking-server$/m,
    );
    assert.match(r.stdout, /^ex-burst\s+missing notifications\s+0\s+0\s+0\s+0\s+0$/m);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.target_profiles["channel-server"].wait.path, "/poll?channel={key}&timeout={timeout_s}");
    assert.equal(run.target_profiles.reference.name, "seed");
    // The command targets were measured from /proc: memory per waiter is a figure, not absent.
    assert.equal(csvMetric(out, "batch-server", "target_rss_per_waiter_bytes").length, 1);
  });

  test("a stream on each: every message once and in order, re-polling from the profile's cursor", async () => {
    const scenario = join(dir, "ex-stream.json");
    writeFileSync(
      scenario,
      JSON.stringify({
        name: "ex-stream",
        description: "t",
        type: "stream",
        waiters: 40,
        keys: 4,
        arrival: { type: "uniform", window_ms: 200 },
        rate_per_s: 40,
        duration_s: 2,
      }),
    );
    const out = join(dir, "stream");
    const r = await runCli(BENCH, [
      scenario,
      "--targets",
      `${CHANNEL},${BATCH},${INDEX},${BLOCKING}`,
      "--out",
      out,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const target of ["channel-server", "batch-server", "index-server", "blocking-server"]) {
      const expected = csvMetric(out, target, "expected")[0];
      assert.equal(expected, 40 * 20, target);
      assert.deepEqual(csvMetric(out, target, "delivered"), [expected], target);
      for (const m of ["lost", "duplicates", "out_of_order", "errors"])
        assert.deepEqual(csvMetric(out, target, m), [0], `${target} ${m}`);
      assert.deepEqual(csvMetric(out, target, "stream_cursor"), [1], target);
    }
  });

  test("a server run by someone else: the wrong profile fails and names the probe; the right one gives a table", async (t) => {
    const url = await startByHand(t, "python3", [
      join(ROOT, "examples/channel-server/server.py"),
      "--port",
      "0",
    ]);
    const scenario = scenarioFile(dir, "ex-attach", { waiters: 50, keys: 1 });
    const wrong = await runCli(BENCH, [scenario, "--target", url, "--out", join(dir, "wrong"), "--quiet"]);
    assert.equal(wrong.code, 3, wrong.stdout + wrong.stderr);
    assert.match(wrong.stdout, /every waiter failed.*HTTP 404.*"seed" profile.*npm run probe -- --target/);
    const profile = join(ROOT, "examples/channel-server/profile.json");
    const right = await runCli(BENCH, [
      scenario,
      "--target",
      url,
      "--profile",
      profile,
      "--out",
      join(dir, "right"),
      "--quiet",
    ]);
    assert.equal(right.code, 0, right.stdout + right.stderr);
    assert.match(right.stdout, /^ex-attach\s+50\b/m);
    // Attached on loopback: its process is found by its socket and its RSS read from /proc (its own
    // stats page has no memory figure).
    const rss = csvMetric(join(dir, "right"), url, "target_rss_per_waiter_bytes");
    assert.equal(rss.length, 1);
    assert.ok((rss[0] as number) > 0, `RSS per waiter ${rss[0]}`);
  });

  test("a server whose process is not visible: CPU and memory from its Prometheus page", async (t) => {
    const url = await startByHand(t, process.execPath, [
      join(ROOT, "examples/batch-server/server.mjs"),
      "--port",
      "0",
    ]);
    const scenario = scenarioFile(dir, "ex-prom", {
      waiters: 2_000,
      keys: 1,
      arrival: { type: "uniform", window_ms: 1_000 },
    });
    const out = join(dir, "prom");
    const profile = join(ROOT, "examples/batch-server/profile.json");
    // --no-proc: as for a server in a container, only its own page can say.
    const r = await runCli(BENCH, [
      scenario,
      "--target",
      url,
      "--profile",
      profile,
      "--no-proc",
      "--out",
      out,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const m of [
      "server_cpu_per_notification_us",
      "target_rss_per_waiter_bytes",
      "target_heap_per_waiter_bytes",
    ]) {
      const v = csvMetric(out, url, m);
      assert.equal(v.length, 1, `${m} from process_* metrics`);
      assert.ok((v[0] as number) > 0, `${m} ${v[0]}`);
    }
  });

  test("a command that dies at start: exit 3, its output kept in the run folder", async () => {
    const target = join(dir, "broken.json");
    writeFileSync(
      target,
      JSON.stringify({
        name: "broken",
        profile: "seed",
        command: "echo 'cannot open config.yaml' >&2; exit 7",
      }),
    );
    const out = join(dir, "broken-run");
    const r = await runCli(BENCH, [
      scenarioFile(dir, "ex-broken", {}),
      "--targets",
      target,
      "--out",
      out,
      "--quiet",
    ]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /exited with code 7/);
    assert.match(readFileSync(join(out, "target-broken.log"), "utf8"), /cannot open config\.yaml/);
  });
});

describe("a stream that cannot use a cursor on a server whose waits see only the future", () => {
  test("the fresh-key fallback is refused with the reason, not run into a loss", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-future-"));
    // The index server's profile without its cursor.
    const profile = JSON.parse(readFileSync(join(ROOT, "examples/index-server/profile.json"), "utf8"));
    profile.wait.path = "/events?topic={key}&wait={timeout_s}";
    profile.cursor = { from: "none" };
    writeFileSync(join(dir, "profile.json"), JSON.stringify(profile));
    writeFileSync(
      join(dir, "target.json"),
      JSON.stringify({
        name: "future-only",
        profile: "profile.json",
        command: `node ${join(ROOT, "examples/index-server/server.mjs")} --port {port}`,
        ready: { line: "listening on" },
      }),
    );
    const scenario = join(dir, "s.json");
    writeFileSync(
      scenario,
      JSON.stringify({
        name: "future-stream",
        description: "t",
        type: "stream",
        waiters: 10,
        keys: 2,
        arrival: { type: "uniform", window_ms: 100 },
        rate_per_s: 10,
        duration_s: 1,
      }),
    );
    const r = await runCli(BENCH, [
      scenario,
      "--targets",
      join(dir, "target.json"),
      "--out",
      join(dir, "out"),
      "--quiet",
    ]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /cannot stream on future-only: the profile names no cursor, and a fresh key per message would lose .*see only changes made after them/,
    );
  });
});

describe("a server that only pushes (examples/sse-server: SSE, no long poll)", () => {
  const SSE_ONLY = join(ROOT, "examples/sse-server/target.json");

  test("the probe checks its subscriptions as the required items", async () => {
    const r = await runCli(PROBE, [SSE_ONLY]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /skip\s+a wait parks\s+the profile has no "wait"/);
    for (const item of [
      "sse: stats count the open subscription",
      "sse: a subscription receives a publish with the right value",
      "sse: a resumed subscription loses nothing",
    ])
      assert.match(r.stdout, new RegExp(`PASS\\s+${item}`), r.stdout);
  });

  test("over --transports sse beside the reference: every message, resumed streams lose nothing; long-poll is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-sse-only-"));
    const fan = scenarioFile(dir, "fan", { waiters: 100, keys: 2, sets: { count: 2 } });
    const stream = scenarioFile(dir, "resume", {
      type: "stream",
      waiters: 40,
      keys: 4,
      sets: undefined,
      rate_per_s: 80,
      duration_s: 1,
      reconnect_after: 5,
    });
    const out = join(dir, "run");
    const r = await runCli(BENCH, [
      fan,
      stream,
      "--targets",
      `reference,${SSE_ONLY}`,
      "--transports",
      "sse",
      "--out",
      out,
      "-q",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const results = JSON.parse(readFileSync(join(out, "run.json"), "utf8")).results as {
      scenario: string;
      target: string;
      metrics: Record<string, number>;
    }[];
    for (const x of results.filter((x) => x.target === "sse-server/sse")) {
      if (x.scenario === "fan") {
        assert.equal(x.metrics.delivered, 100);
        // Its own stats page counts the open streams and gives its memory: a figure per subscriber.
        assert.ok((x.metrics.target_rss_per_waiter_bytes as number) > 0, JSON.stringify(x.metrics));
      } else {
        assert.equal(x.metrics.delivered, x.metrics.expected);
        assert.equal(x.metrics.lost, 0);
        assert.equal(x.metrics.duplicates, 0);
        assert.ok((x.metrics.reconnects as number) > 0);
      }
    }
    assert.equal(results.filter((x) => x.target === "sse-server/sse").length, 2);
    // Without --transports it would run over long-poll, which it does not have: nothing to run.
    const lp = await runCli(BENCH, [fan, "--targets", SSE_ONLY, "-q"]);
    assert.equal(lp.code, 2);
    assert.match(
      lp.stderr,
      /its profile "sse-server" has no long poll \(no "wait"\): run it with --transports sse/,
    );
  });
});
