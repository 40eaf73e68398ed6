// The reference server on several real processes over a real redis-server (started as the harness
// starts it): a /set wakes waiters on every process, /stats sums the processes, a cursor holds across
// processes, and stopping and restarting Redis mid-stream loses no stored value.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { RedisServer, redisMissing } from "../bench/core/targets/redis-server.ts";
import type { StatsDocument } from "./app.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

let redis: RedisServer;
let prefixes = 0;
/** Without redis-server (scripts/install-peers.sh) every test here is skipped, and says why. */
const NO_REDIS = redisMissing();
before(async () => {
  if (!NO_REDIS) redis = await RedisServer.start();
});
after(async () => {
  if (!NO_REDIS) await redis.stop();
});

async function startServer(processes: number, extra: string[] = []) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      MAIN,
      "--port",
      "0",
      "--processes",
      String(processes),
      "--redis",
      redis.url,
      "--redis-prefix",
      `cl${process.pid}-${++prefixes}:`,
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 30 s: ${out}`)), 30_000);
    child.stdout?.on("data", () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before ready: ${out}`)));
  });
  const agent = new Agent({ connections: 200 });
  const post = async (path: string, body: string) => {
    const res = await request(url + path, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      dispatcher: agent,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const stats = async () =>
    (await (await request(`${url}/stats`, { dispatcher: agent })).body.json()) as StatsDocument;
  const parked = async (n: number) => {
    for (let i = 0; i < 500; i++) {
      if ((await stats()).waiters === n) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`never ${n} parked (${(await stats()).waiters})`);
  };
  let stopped: Promise<number | undefined> | undefined;
  const stop = () => {
    stopped ??= stopNow();
    return stopped;
  };
  const stopNow = async () => {
    await agent.close();
    if (child.exitCode !== null) return child.exitCode;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    return code as number;
  };
  return { url, post, stats, parked, stop, output: () => out };
}

/** One /get on its own connection (so the cluster deals it to the next process), as raw HTTP. */
function rawGet(url: string, body: string): Promise<Record<string, unknown>> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let data = "";
    socket.on("data", (c) => {
      data += c.toString();
      const split = data.indexOf("\r\n\r\n");
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? -1);
      if (split >= 0 && length >= 0 && data.length >= split + 4 + length) {
        socket.destroy();
        resolve(JSON.parse(data.slice(split + 4, split + 4 + length)));
      }
    });
    socket.on("error", reject);
    socket.write(
      `POST /get HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  });
}

describe("the reference server on several processes over Redis", { skip: NO_REDIS ?? false }, () => {
  test("--processes above 1 without --redis is refused, naming the fix", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, "--processes", "2"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--processes 2 needs --redis URL/);
  });

  test("one /set wakes the waiters of every process; /stats answers for the whole server", async (t) => {
    const s = await startServer(3, ["--balance", "round-robin"]); // dealt in turn: every process gets some
    t.after(s.stop);
    const waiting = Array.from({ length: 30 }, () => rawGet(s.url, "key=all&timeout=30"));
    await s.parked(30);
    const before = await s.stats();
    assert.equal(before.processes, 3);
    assert.equal(before.per_process?.length, 3);
    assert.ok(
      before.per_process?.every((p) => p.waiters > 0),
      `every process holds some: ${before.per_process?.map((p) => p.waiters)}`,
    );
    assert.equal(
      before.memory.rss_bytes > (before.per_process ?? []).reduce((n, p) => n + p.memory.rss_bytes, 0),
      true,
      "RSS sums every worker and the primary",
    );
    const set = await s.post("/set", "key=all&value=everyone");
    const answers = await Promise.all(waiting);
    assert.deepEqual(
      answers.map((a) => [a.value, a.version]),
      answers.map(() => ["everyone", set.body.version]),
    );
    const afterSet = await s.stats();
    assert.deepEqual([afterSet.waiters, afterSet.counters.wakes, afterSet.counters.sets], [0, 30, 1]);
    assert.equal(await s.stop(), 0);
  });

  test("a cursor loses nothing across processes: each re-poll may land on another process", async (t) => {
    const s = await startServer(2);
    t.after(s.stop);
    const versions: number[] = [];
    for (const v of ["a", "b", "c", "d"])
      versions.push((await s.post("/set", `key=cur&value=${v}`)).body.version as number);
    const seen: unknown[] = [];
    let since = 0;
    for (let i = 0; i < 4; i++) {
      const got = await rawGet(s.url, `key=cur&since=${since}&timeout=5`);
      seen.push(got.value);
      since = got.version as number;
    }
    assert.deepEqual(seen, ["a", "b", "c", "d"]);
    assert.equal(since, versions.at(-1));
  });

  test("Redis stopped and restarted mid-stream: /set answers 503 meanwhile, followers miss no stored value", async (t) => {
    const s = await startServer(2);
    t.after(s.stop);
    const acknowledged: number[] = [];
    let refused = 0;
    let uncertain = 0; // refused after the command reached Redis: stored or not, the server cannot know
    let running = true;
    // Followers: each re-polls with its cursor, on fresh connections (so on either process).
    const follow = async () => {
      const seen: number[] = [];
      let since = 0;
      while (running || since < (acknowledged.at(-1) ?? 0)) {
        const got = await rawGet(s.url, `key=stream&since=${since}&timeout=2`);
        if (got.error === "timeout") continue;
        assert.equal(got.error_code, 0, JSON.stringify(got));
        assert.equal(got.compacted, undefined, "history is large enough that nothing is compacted");
        seen.push(got.version as number);
        since = got.version as number;
      }
      return seen;
    };
    const followers = [follow(), follow(), follow()];
    const setter = (async () => {
      for (let i = 0; running; i++) {
        const r = await s.post("/set", `key=stream&value=v${i}`).catch(() => undefined);
        if (r?.status === 200) acknowledged.push(r.body.version as number);
        else if (r?.status === 503 && r.body.error === "broker_unavailable") {
          refused++;
          if (/may have been carried out/.test(r.body.message as string)) uncertain++;
        } else assert.fail(`unexpected /set answer: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 15));
      }
    })();
    await new Promise((r) => setTimeout(r, 400));
    await redis.pause();
    await new Promise((r) => setTimeout(r, 400));
    await redis.resume();
    await new Promise((r) => setTimeout(r, 1_500)); // both processes reconnect (within ~1 s) and sets go on
    running = false;
    await setter;
    const seen = await Promise.all(followers);
    assert.ok(refused > 0, "sets during the outage were refused with broker_unavailable");
    assert.ok(acknowledged.length > 20, `sets went on after the restart: ${acknowledged.length}`);
    // Every acknowledged version, in order; besides them at most the sets whose outcome the server
    // could not know (Redis stopping as it ran them: a 503 that says so, and a value stored).
    for (const list of seen) {
      const extra = list.filter((v) => !acknowledged.includes(v));
      const missing = acknowledged.filter((v) => !list.includes(v));
      assert.deepEqual(
        list.filter((v) => acknowledged.includes(v)),
        acknowledged,
        // Enough to tell a lost wake from a race in this test: the gap, what came around it, and
        // the server's own log (its Redis losses and recoveries).
        `every acknowledged version, in order; missing ${missing.join(",")}; seen ${list.join(",")}; acknowledged ${acknowledged.join(",")}; refused ${refused}; server said: ${s.output().slice(-2000)}`,
      );
      assert.ok(
        extra.length <= uncertain,
        `${extra.length} unacknowledged versions seen, ${uncertain} uncertain 503s`,
      );
      assert.deepEqual(
        [...list].sort((a, b) => a - b),
        list,
        "in order",
      );
    }
    assert.match(s.output(), /redis back; reading again/);
  });
});
