// A probe, not a test: the reliability issue's attacks on the JSON path, at their full size, against
// a real server process, with the figures that decide them printed. Run:
//   node --import tsx server/testing/json-pipelining-probe.ts [--processes 2]
// (--processes 2 starts a redis-server too). Loopback only; every loop is bounded in count and time.
//
// 1. 300 connections, each a JSON /get that parks with 800 small requests pipelined behind it,
//    then closed: how long until no waiter and no CLOSE-WAIT socket is left, and RSS growth.
// 2. 50 connections pipelining JSON /gets for 10 s (reconnecting when closed), while a
//    well-behaved client does /set → wake round trips: each process's RSS growth, the slowest trip.

import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { request } from "undici";
import { RedisServer } from "../../bench/core/targets/redis-server.ts";
import { closeWaitCount } from "./close-wait.ts";

const { values: flags } = parseArgs({ options: { processes: { type: "string", default: "1" } } });
const processes = Number(flags.processes);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function postJson(path: string, json: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

interface Stats {
  waiters: number;
  memory: { rss_bytes: number };
  per_process?: Stats[];
}

async function startServer(redisUrl?: string): Promise<{ child: ChildProcess; url: string }> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const args = ["--expose-gc", "--import", "tsx", main, "--host", "127.0.0.1", "--port", "0"];
  if (redisUrl) args.push("--processes", String(processes), "--redis", redisUrl);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, url };
}

async function stats(url: string): Promise<Stats> {
  const r = await request(`${url}/stats`);
  return (await r.body.json()) as Stats;
}

const rssOf = (s: Stats): number[] => (s.per_process ?? [s]).map((p) => p.memory.rss_bytes);

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once("error", reject);
  });
}

async function leaversAttack(url: string): Promise<void> {
  const port = Number(new URL(url).port);
  const before = rssOf(await stats(url));
  const sockets: Socket[] = [];
  for (let i = 0; i < 300; i++) {
    const s = await open(url);
    s.on("error", () => {});
    s.on("data", () => {});
    s.write(postJson("/get", `{"key":"leaver-${i % 10}"}`));
    sockets.push(s);
  }
  for (let i = 0; i < 100 && (await stats(url)).waiters < 300; i++) await sleep(50);
  console.log(`attack 1: ${(await stats(url)).waiters} parked`);
  for (const s of sockets) s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(800));
  for (const s of sockets) s.end();
  const closedAt = Date.now();
  let waiters = -1;
  let cw = -1;
  for (let i = 0; i < 200; i++) {
    waiters = (await stats(url)).waiters;
    cw = closeWaitCount(port);
    if (waiters === 0 && cw === 0) break;
    await sleep(25);
  }
  const after = rssOf(await stats(url));
  console.log(
    `attack 1: ${waiters} waiters and ${cw} CLOSE-WAIT ${Date.now() - closedAt} ms after the close; ` +
      `RSS growth per process ${after.map((a, i) => `${((a - (before[i] ?? 0)) / 2 ** 20).toFixed(1)} MB`).join(", ")}`,
  );
  for (const s of sockets) s.destroy();
}

async function floodAttack(url: string): Promise<void> {
  const before = rssOf(await stats(url));
  const peak = [...before];
  const endAt = Date.now() + 10_000;
  const flooders = Array.from({ length: 50 }, async (_, i) => {
    let connections = 0;
    while (Date.now() < endAt) {
      connections++;
      const s = await open(url).catch(() => undefined);
      if (!s) continue;
      s.on("error", () => {});
      s.on("data", () => {});
      const closed = new Promise((r) => s.once("close", r));
      const one = postJson("/get", `{"key":"flood-${i}"}`).repeat(50);
      while (!s.destroyed && Date.now() < endAt) {
        if (!s.write(one)) await Promise.race([new Promise((r) => s.once("drain", r)), closed]);
        await sleep(1);
      }
      s.destroy();
    }
    return connections;
  });
  let slowest = 0;
  let trips = 0;
  const watcher = (async () => {
    while (Date.now() < endAt) {
      const st = await stats(url);
      rssOf(st).forEach((r, i) => {
        peak[i] = Math.max(peak[i] ?? 0, r);
      });
      // A well-behaved client: a form /get parks, a /set wakes it; the round trip from the set.
      const key = `good-${trips}`;
      const get = request(`${url}/get`, {
        method: "POST",
        body: `key=${key}&timeout=15`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }).then((r) => r.body.json());
      await sleep(50);
      const t0 = performance.now();
      await request(`${url}/set`, {
        method: "POST",
        body: `key=${key}&value=v`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }).then((r) => r.body.dump());
      const answer = (await get) as { value?: string };
      const ms = performance.now() - t0;
      if (answer.value !== "v") console.log(`attack 2: round trip ${trips} got ${JSON.stringify(answer)}`);
      slowest = Math.max(slowest, ms);
      trips++;
      await sleep(200);
    }
  })();
  const connections = await Promise.all(flooders);
  await watcher;
  console.log(
    `attack 2: ${connections.reduce((a, b) => a + b, 0)} flooding connections in 10 s; peak RSS growth per process ` +
      `${peak.map((p, i) => `${((p - (before[i] ?? 0)) / 2 ** 20).toFixed(1)} MB`).join(", ")}; ` +
      `${trips} /set→wake round trips, slowest ${slowest.toFixed(1)} ms`,
  );
}

const redis = processes > 1 ? await RedisServer.start() : undefined;
const server = await startServer(redis?.url);
try {
  console.log(`server ${server.url}, ${processes} process(es)${redis ? " over Redis" : ""}`);
  await leaversAttack(server.url);
  await floodAttack(server.url);
} finally {
  server.child.kill("SIGTERM");
  await new Promise((r) => server.child.once("exit", r));
  await redis?.stop();
}
