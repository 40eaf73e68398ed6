// `npm run bench` as a user runs it: every exit code, and the results folder it leaves.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tsxNodeArgs } from "../child-process.ts";
import { runCli } from "../testing/run-cli.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const CLI = new URL("./bench.ts", import.meta.url).pathname;
const FAKE_TARGET = new URL("../testing/fake-targets.ts", import.meta.url).pathname;

const bench = (args: string[], onStderr?: Parameters<typeof runCli>[2]) => runCli(CLI, args, onStderr);

const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
};

describe("bench CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-cli-"));

  test("a small run: exit 0, the summary table, every result file", async () => {
    const file = scenarioFile(dir, "tiny", {});
    const out = join(dir, "run-ok");
    const r = await bench([file, "--out", out, "--workers", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^scenario\s+waiters/m);
    assert.match(r.stdout, /^tiny\s+100\b/m);
    for (const f of ["run.json", "summary.csv", "latency-tiny.csv", "timeseries-tiny.csv", "tiny.hlog"]) {
      assert.ok(existsSync(join(out, f)), f);
    }
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.complete, true);
    assert.equal(run.exit_code, 0);
    assert.equal(run.results[0].metrics.delivered, 100);
    assert.equal(run.driver_sched, "batch", "the driver runs as batch by default (chrt is on Linux)");
    // Never overwritten: the same folder again is refused.
    const again = await bench([file, "--out", out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /not empty/);
  });

  test("two runs started at once on one new --out: one runs, the other is refused (exit 2)", async () => {
    const file = scenarioFile(dir, "racing", { waiters: 20 });
    const out = join(dir, "run-raced");
    const codes = (await Promise.all([bench([file, "--out", out]), bench([file, "--out", out])])).map(
      (r) => r.code,
    );
    assert.deepEqual(codes.sort(), [0, 2]);
    assert.equal(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).exit_code, 0);
  });

  test("--help and --list", async () => {
    const help = await bench(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--target URL/);
    const list = await bench(["--list"]);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /fanout-10k/);
    assert.match(list.stdout, /suites \(--suite NAME\):\n(\s+[\w-]+ .*\n)*\s+default\s+The default suite/);
  });

  test("invalid scenario or flag: exit 2, every problem listed", async () => {
    const bad = scenarioFile(dir, "bad", { waiters: 0, arrival: { type: "sideways" } });
    const r = await bench([bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /waiters/);
    assert.match(r.stderr, /arrival/);
    const flag = await bench(["--workers", "many"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--workers/);
    const suite = await bench(["--suite", "nope"]);
    assert.equal(suite.code, 2);
    assert.match(suite.stderr, /no suite "nope"/);
  });

  test("a target nobody listens on: exit 3 naming it, results marked incomplete", async () => {
    const port = await freePort();
    const out = join(dir, "run-refused");
    const r = await bench([
      scenarioFile(dir, "refused", {}),
      "--target",
      `http://127.0.0.1:${port}`,
      "--out",
      out,
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot reach target http://127.0.0.1:${port}: ECONNREFUSED`));
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.complete, false);
    assert.equal(run.exit_code, 3);
  });

  test("an attached target that dies mid-run: exit 3, what was measured is written", async () => {
    const target = spawn(process.execPath, [...tsxNodeArgs(), FAKE_TARGET, "--die-on-set"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const url = await new Promise<string>((resolve) => {
      target.stdout?.on("data", (c: Buffer) => {
        const m = /listening on (\S+)/.exec(c.toString());
        if (m?.[1]) resolve(m[1]);
      });
    });
    const out = join(dir, "run-died");
    const r = await bench([scenarioFile(dir, "died", {}), "--target", url, "--out", out]);
    target.kill();
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /stopped answering/);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.complete, false);
    assert.equal(run.results[0].metrics.waiters, 100);
    assert.match(
      readFileSync(join(out, "summary.csv"), "utf8"),
      /died,http:\/\/127\.0\.0\.1:\d+,0,waiters,100,count/,
    );
  });

  test("host limits too low: exit 4 with the limit, the need and the fix, before anything runs", async () => {
    const r = await bench([scenarioFile(dir, "huge", { waiters: 100_000 }), "--workers", "1"]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /host limits too low/);
    assert.match(r.stderr, /fix:/);
  });

  test("Ctrl-C: exit 5, results so far written and marked incomplete", async () => {
    const out = join(dir, "run-interrupted");
    let sent = false;
    const r = await bench(
      [
        scenarioFile(dir, "slow", { waiters: 300, arrival: { type: "uniform", window_ms: 5000 } }),
        "--out",
        out,
      ],
      (text, child) => {
        if (!sent && text.includes("[slow] connect")) {
          sent = true;
          setTimeout(() => child.kill("SIGINT"), 500);
        }
      },
    );
    assert.equal(r.code, 5, r.stderr);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.complete, false);
    assert.equal(run.exit_code, 5);
    assert.equal(run.results[0].error.code, "LPB_ERR_INTERRUPTED");
    assert.ok(existsSync(join(out, "timeseries-slow.csv")));
  });
});
