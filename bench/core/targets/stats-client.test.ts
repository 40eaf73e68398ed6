// A stats page's figures are taken only where they can be true: a negative one, or a CPU counter
// that steps far back, is refused and kept as a fault; a CPU counter's small step back (seen on the
// reference server: 2.4 ms of a second) reads as no progress.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { seedProfile } from "./builtin-profiles.ts";
import { parseProfile } from "./profile.ts";
import { ProfileStats } from "./stats-client.ts";

async function statsPage(pages: unknown[]) {
  let i = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(pages[Math.min(i++, pages.length - 1)]));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return { server, stats: new ProfileStats(url, seedProfile.stats) };
}

const page = (waiters: number, userUs: number) => ({
  waiters,
  memory: { rss_bytes: 1_000, heap_used_bytes: 500 },
  cpu: { user_us: userUs, system_us: 0 },
});

test("a small step back of the CPU counter reads as no progress; no fault", async (t) => {
  const { server, stats } = await statsPage([page(1, 1_021_302), page(1, 1_018_935), page(1, 1_030_000)]);
  t.after(() => server.close());
  t.after(() => stats.close());
  assert.equal((await stats.read())?.cpuUs, 1_021_302);
  assert.equal((await stats.read())?.cpuUs, 1_021_302);
  assert.equal((await stats.read())?.cpuUs, 1_030_000);
  assert.deepEqual(stats.faults, []);
});

test("a CPU counter far back, a negative figure: not used, and kept as faults", async (t) => {
  const { server, stats } = await statsPage([page(1, 5_000_000), page(-3, 1_000)]);
  t.after(() => server.close());
  t.after(() => stats.close());
  await stats.read();
  const second = await stats.read();
  assert.equal(second?.cpuUs, undefined);
  assert.equal(second?.waiters, undefined);
  assert.equal(stats.faults.length, 2);
  assert.match(stats.faults.join("\n"), /went backwards \(5000000 µs, then 1000 µs\)/);
  assert.match(stats.faults.join("\n"), /\/waiters = -3, a negative parked figure/);
});

async function textPage(text: string, spec: Record<string, unknown>) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const profile = parseProfile("test", { ...seedProfile, name: "t", stats: spec });
  return { server, stats: new ProfileStats(url, profile.stats) };
}

const PROMETHEUS_PAGE = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 4.2991616e+07
go_memstats_heap_alloc_bytes 1.234e+06
waiters{kind="get",shard="0"} 7
waiters{kind="get",shard="1"} 5
waiters{kind="sse"} 99
`;

test("a Prometheus page: the process preset, labels, exponent notation, CPU in seconds", async (t) => {
  const { server, stats } = await textPage(PROMETHEUS_PAGE, {
    path: "/metrics",
    format: "prometheus",
    parked_metric: 'waiters{shard="1",kind="get"}',
    preset: "prometheus-process",
  });
  t.after(() => server.close());
  t.after(() => stats.close());
  assert.deepEqual(await stats.read(), {
    waiters: 5,
    rssBytes: 42_991_616,
    heapUsedBytes: 1_234_000,
    cpuUs: 12_500_000,
  });
});

test("a text page: every figure by its own regular expression (multiline), CPU in seconds", async (t) => {
  const { server, stats } = await textPage("parked 3\nrss=2e6\ncpu 0.25\n", {
    path: "/metrics",
    format: "text",
    parked_regex: "^parked (\\d+)$",
    rss_regex: "^rss=(\\S+)$",
    cpu_seconds_regex: "^cpu (\\S+)$",
  });
  t.after(() => server.close());
  t.after(() => stats.close());
  assert.deepEqual(await stats.read(), {
    waiters: 3,
    rssBytes: 2_000_000,
    heapUsedBytes: undefined,
    cpuUs: 250_000,
  });
});

test("a profile naming figures of another format, or a preset without prometheus, is refused", () => {
  assert.throws(
    () =>
      parseProfile("p.json", {
        ...seedProfile,
        name: "t",
        stats: { path: "/m", format: "text", parked_regex: "^(\\d+)", rss_metric: "x" },
      }),
    /rss_metric is for "format": "prometheus" pages; this page is text/,
  );
  assert.throws(
    () =>
      parseProfile("p.json", {
        ...seedProfile,
        name: "t",
        stats: { path: "/m", parked: "/w", preset: "prometheus-process" },
      }),
    /the prometheus-process preset goes with "format": "prometheus"/,
  );
});
