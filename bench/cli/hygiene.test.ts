// Process hygiene of the bench command, as a user's shell would drive it: Ctrl-C stops a run within
// 2 s (the setter's schedule no longer runs to its end); SIGKILL of the harness leaves no server it
// started behind (the kernel's parent-death signal); a closed stdout (`| head`) is not a failure.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tsxNodeArgs } from "../child-process.ts";
import { processTree } from "../core/metrics/proc.ts";
import { runCli } from "../testing/run-cli.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const BENCH = new URL("./bench.ts", import.meta.url).pathname;
const EARLY_SIGNALS = new URL("./early-signals.mjs", import.meta.url).pathname;

/** Processes (other than zombies) whose environment carries `mark`: the harness and all it started. */
function markedProcesses(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(mark) && alive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

describe("process hygiene", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-hygiene-"));

  test("Ctrl-C in the middle of a 20 s stream: exit 5, the schedule stopped, results kept", async () => {
    const scenario = join(dir, "long-stream.json");
    writeFileSync(
      scenario,
      JSON.stringify({
        name: "long-stream",
        description: "t",
        type: "stream",
        waiters: 20,
        keys: 2,
        arrival: { type: "all-at-once" },
        rate_per_s: 20,
        duration_s: 20,
      }),
    );
    const out = join(dir, "interrupted");
    let signalled = false;
    const r = await runCli(BENCH, [scenario, "--out", out], (stderr, child) => {
      if (!signalled && stderr.includes("[long-stream] fire")) {
        signalled = true;
        setTimeout(() => child.kill("SIGINT"), 500);
      }
    });
    assert.equal(r.code, 5, r.stderr);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.complete, false);
    // The signal, not the end of the 20 s schedule, ended the fire phase (its record is kept).
    assert.equal(run.results[0]?.error?.exitCode, 5);
    const fire = run.results[0]?.metrics?.phase_fire_ms;
    assert.ok(fire !== undefined && fire < 10_000, `the fire phase lasted ${fire} ms of the 20 s schedule`);
  });

  test("Ctrl-C at the terminal at 10 moments of the start: each exits 5 with run.json, nothing left behind", async () => {
    // As a terminal sends it: SIGINT to the whole foreground process group, at moments spread over
    // loading, preflight, the server's start and the driver's. The harness runs as package.json's
    // `npm run bench` runs it (the early-signals preload first). Not in Node's own first ~100 ms:
    // Node sets every signal to its default while it boots, before any JavaScript can handle one.
    const scenario = scenarioFile(dir, "interrupted-start", {
      waiters: 2_000,
      arrival: { type: "uniform", window_ms: 1_000 },
    });
    for (let i = 0; i < 10; i++) {
      const mark = `LPB_HYGIENE_MARK=${process.pid}-${i}-${Date.now()}`;
      const out = join(dir, `ctrl-c-${i}`);
      const child = spawn(
        process.execPath,
        ["--import", EARLY_SIGNALS, ...tsxNodeArgs(), BENCH, scenario, "--out", out, "--quiet"],
        {
          stdio: ["ignore", "ignore", "pipe"],
          detached: true, // its own process group, as a shell's foreground job
          env: { ...process.env, LPB_HYGIENE_MARK: mark.split("=")[1], LPB_ANNOUNCE_SIGNALS: "1" },
        },
      );
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const started = Date.now();
      // Node's boot (before any JavaScript can handle a signal) can outlast 300 ms on a loaded
      // machine: the signal waits until the preload says it handles them, then for its moment.
      for (let tries = 0; tries < 3000 && !stderr.includes("early-signals: handled"); tries++)
        await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.max(0, 300 + i * 250 - (Date.now() - started))));
      process.kill(-(child.pid as number), "SIGINT");
      const code = await exited;
      assert.equal(code, 5, `Ctrl-C after ${300 + i * 250} ms: ${stderr}`);
      assert.ok(existsSync(join(out, "run.json")), `Ctrl-C after ${300 + i * 250} ms: no run.json`);
      assert.equal(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).exit_code, 5);
      // A wait for the processes to end, not a bound on how fast: 30 s before giving up.
      for (let tries = 0; tries < 300 && markedProcesses(mark).length > 0; tries++)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(markedProcesses(mark), [], `Ctrl-C after ${300 + i * 250} ms: processes left behind`);
    }
  });

  test("SIGKILL of the harness: the server it started is gone within seconds", async () => {
    const scenario = scenarioFile(dir, "slow-arrivals", {
      waiters: 50,
      arrival: { type: "uniform", window_ms: 20_000 },
    });
    const child = spawn(process.execPath, [...tsxNodeArgs(), BENCH, scenario, "--out", join(dir, "killed")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes("[slow-arrivals] connect")) resolve();
      }),
    );
    const started = processTree(child.pid as number).slice(1); // every process it started
    assert.ok(started.length >= 2, `the server and a driver worker: ${started.join(", ")}`);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // A wait for the kernel to deliver the death signals, not a bound on how fast: 30 s before giving up.
    for (let tries = 0; tries < 300 && started.some(alive); tries++)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(started.filter(alive), [], "every process the harness started has ended");
  });

  test("a closed stdout (| head) is not a failure, and the server is stopped", async () => {
    const scenario = scenarioFile(dir, "head-closed", { waiters: 50 });
    const child = spawn(
      process.execPath,
      [...tsxNodeArgs(), BENCH, scenario, "--out", join(dir, "head"), "--quiet"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    child.stdout.destroy(); // the reader went away before the table was printed
    const code = await new Promise((r) => child.once("exit", r));
    assert.equal(code, 0);
    const run = JSON.parse(readFileSync(join(dir, "head", "run.json"), "utf8"));
    assert.equal(run.complete, true);
  });
});
