// The driver study: its tables from runs (pure), and the plain client it measures against, for real
// against the reference server (a few hundred waiters: behaviour, not speed).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readRunRecord } from "../../core/run-record.ts";
import { spawnReference } from "../../core/targets/reference.ts";
import { runCli } from "../../testing/run-cli.ts";
import { syntheticRun } from "../../testing/synthetic-run.ts";
import { fromHarness, fromPlainClient, type PlainClientRun, range, renderTables } from "./driver-study.ts";

const PLAIN_CLIENT = new URL("../../core/yardstick/plain-client.ts", import.meta.url).pathname;
const STUDY = new URL("../../cli/driver-study.ts", import.meta.url).pathname;

test("the tables: ranges over repeats, failed runs left out, the driver ÷ plain-client ratios", () => {
  const run = syntheticRun({
    waiters: [10_000, 10_000, 10_000],
    driver_cpu_per_notification_us: [6, 8, 7],
    driver_cpu_connect_ms: [400, 500, 450],
    time_to_last_delivery_ms: [90, 100, 95],
    server_cpu_per_notification_us: [10, 11, 12],
    server_cpu_connect_ms: [300, 320, 310],
    target_rss_per_waiter_bytes: [4_700, 4_800, 4_750],
  });
  (run.results[2] as { complete: boolean }).complete = false; // a failed repeat counts for nothing
  (run.results[0] as { flags: { driverBound: boolean } }).flags.driverBound = true;
  const { load, servers } = fromHarness([run]);
  assert.deepEqual(load.cpuPerNotificationUs, [6, 8]);
  assert.deepEqual(load.cpuPerConnectionUs, [40, 50]);
  assert.equal(load.driverBound, 1);
  assert.deepEqual(
    servers.map((s) => [s.target, s.runs, s.serverCpuConnectMs]),
    [["reference", 2, [300, 320]]],
  );

  const plainRun = (perNotification: number, answered = 10_000): PlainClientRun => ({
    waiters: 10_000,
    answered,
    errors: 0,
    timed_out: false,
    cpu_per_connection_us: 50,
    cpu_per_notification_us: perNotification,
    time_to_last_delivery_ms: 100,
  });
  const plain = fromPlainClient([plainRun(10), plainRun(14), plainRun(1, 5_000)]);
  assert.equal(plain.runs, 2, "a run that delivered half is no yardstick");
  const text = renderTables([load, plain], servers, 10_000);
  assert.match(
    text,
    /\| this harness's driver \(1 worker\) \| 2 \| 6\.0–8\.0 \| 40\.0–50\.0 \| 90\.0–100\.0 \(driver-bound in 1\) \|/,
  );
  assert.match(text, /\| reference \| 2 \| 90\.0–100\.0 \| 10\.0–11\.0 \| 300–320 \| 4,700–4,800 \|/);
  assert.match(text, /driver ÷ plain client: 0\.58× CPU per notification, 0\.90× CPU per connection/);
  assert.equal(range([]), "— (not measured)");
});

test("the plain client against the reference server: every waiter answered, its CPU figures measured", async (t) => {
  const target = await spawnReference({ waiters: 300 });
  t.after(() => target.stop());
  const { code, stdout: out } = await runCli(PLAIN_CLIENT, [
    "--url",
    target.url.origin,
    "--waiters",
    "300",
    "--window-ms",
    "200",
  ]);
  assert.equal(code, 0);
  const r = JSON.parse(out) as PlainClientRun;
  assert.equal(r.answered, 300);
  assert.equal(r.errors, 0);
  assert.equal(r.timed_out, false);
  assert.ok(r.cpu_per_connection_us > 0 && (r.cpu_per_notification_us ?? 0) > 0, out);
  assert.ok((r.time_to_last_delivery_ms ?? 0) > 0, out);
});

test("the plain client refuses to start without --url, naming it", async () => {
  const { code, stderr: err } = await runCli(PLAIN_CLIENT, []);
  assert.equal(code, 2);
  assert.match(err, /--url http:\/\/HOST:PORT is required/);
});

test("npm run driver-study end to end, small: both tables written from real runs; a bad --targets is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-driver-study-"));
  try {
    const run = (args: string[]) => runCli(STUDY, args);
    const bad = await run(["--targets", "nchan"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--targets must include reference/);
    const ok = await run([
      "--waiters",
      "400",
      "--repeat",
      "1",
      "--targets",
      "reference",
      "--warmup",
      "200",
      "--out",
      join(dir, "s"),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const md = readFileSync(join(dir, "s", "driver-study.md"), "utf8");
    assert.match(md, /\| this harness's driver \(1 worker\) \| 1 \| \d[\d.,]* \| \d[\d.,]* \| \d/);
    assert.match(md, /\| plain raw-socket client \S+ \| 1 \| \d[\d.,]* \| \d[\d.,]* \| \d/);
    assert.match(md, /\| reference \| 1 \| \d/);
    assert.match(md, /driver ÷ plain client: \d+\.\d\d× CPU per notification/);
    assert.match(md, /every target warmed up by 200 waiters first/);
    assert.equal(readRunRecord(join(dir, "s", "harness-1")).warmup, 200, "the harness's run.json says so");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
