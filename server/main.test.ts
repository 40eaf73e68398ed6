// The server as a user starts it: flags, the ready line, SIGTERM answering parked waiters, exit codes.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { request } from "undici";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

describe("server/main.ts", () => {
  test("a bad flag exits 2 naming the flag", () => {
    for (const [args, flag] of [
      [["--port", "abc"], "--port"],
      [["--max-waiters", "-5"], "--max-waiters"],
      [["--no-such-flag"], "--no-such-flag"],
      [["--request-timeout", "0"], "--request-timeout"],
      [["--header-timeout", "soon"], "--header-timeout"],
    ] as const) {
      const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8" });
      assert.equal(r.status, 2, r.stderr);
      assert.ok(r.stderr.includes(flag), r.stderr);
    }
  });

  test("--redis: a malformed URL exits 2, an unreachable Redis exits 1, each naming the fix", () => {
    const bad = spawnSync(process.execPath, ["--import", "tsx", MAIN, "--redis", "localhost:6379"], {
      encoding: "utf8",
    });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--redis must be a URL like redis:\/\/127\.0\.0\.1:6379/);
    const gone = spawnSync(
      process.execPath,
      ["--import", "tsx", MAIN, "--port", "0", "--redis", "redis://127.0.0.1:1"],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(gone.status, 1, gone.stderr);
    assert.match(
      gone.stderr,
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*start redis-server there or fix --redis/,
    );
  });

  test("--help lists every flag with its default", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    for (const flag of [
      "--port",
      "--host",
      "--max-waiters-per-key",
      "--max-timeout",
      "--max-body-bytes",
      "--header-timeout",
      "--request-timeout",
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    assert.match(r.stdout, /default 8888/);
  });

  test("prints its URL when ready; SIGTERM answers parked waiters and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once("exit", () => reject(new Error(`server exited before ready: ${out}`)));
    });
    const waiting = request(`${url}/get`, {
      method: "POST",
      body: "key=a",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    for (let i = 0; i < 200; i++) {
      const stats = (await (await request(`${url}/stats`)).body.json()) as { waiters: number };
      if (stats.waiters === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const res = await waiting;
    assert.equal(res.statusCode, 503);
    assert.equal(((await res.body.json()) as { error: string }).error, "shutting_down");
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
