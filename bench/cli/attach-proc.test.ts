// A server started by hand and attached by URL (--target) is still on this host: the harness finds
// the process listening on the port and reports its CPU per notification and RSS per waiter from
// /proc, as it does for a server it started; --no-proc leaves them absent.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tornadoMissing } from "../core/targets/peers.ts";
import { startByHand } from "../testing/by-hand.ts";
import { runCli } from "../testing/run-cli.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const CLI = new URL("./bench.ts", import.meta.url).pathname;
const TORNADO = new URL("../../server/peers/tornado_server.py", import.meta.url).pathname;

describe("an attached server's process, found by its socket", { skip: tornadoMissing() }, () => {
  test("CPU per notification and RSS per waiter from /proc; absent with --no-proc", async (t) => {
    // The original design's Tornado server, started as a user would, outside the harness.
    const url = await startByHand(t, "/usr/bin/python3", [TORNADO, "--port", "0"], "ignore");
    const dir = mkdtempSync(join(tmpdir(), "lpb-attach-"));
    const scenario = scenarioFile(dir, "hand", {
      waiters: 2_000,
      arrival: { type: "uniform", window_ms: 1_000 },
    });
    const metrics = (out: string) =>
      JSON.parse(readFileSync(join(out, "run.json"), "utf8")).results[0].metrics;

    const withProc = await runCli(CLI, [scenario, "--target", url, "--out", join(dir, "a"), "-q"]);
    assert.equal(withProc.code, 0, withProc.stdout + withProc.stderr);
    const a = metrics(join(dir, "a"));
    assert.equal(a.delivered, 2_000);
    assert.ok(a.server_cpu_per_notification_us > 0, `CPU per notification: ${JSON.stringify(a)}`);
    assert.ok(a.target_rss_per_waiter_bytes > 0, `RSS per waiter: ${JSON.stringify(a)}`);

    const without = await runCli(CLI, [
      scenario,
      "--target",
      url,
      "--out",
      join(dir, "b"),
      "-q",
      "--no-proc",
    ]);
    assert.equal(without.code, 0, without.stdout + without.stderr);
    const b = metrics(join(dir, "b"));
    assert.equal(b.server_cpu_per_notification_us, undefined);
    assert.equal(b.target_rss_per_waiter_bytes, undefined);
  });
});
