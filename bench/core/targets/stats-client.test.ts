// A stats page's figures are taken only where they can be true: a negative one, or a CPU counter
// that steps far back, is refused and kept as a fault; a CPU counter's small step back (seen on the
// reference server: 2.4 ms of a second) reads as no progress.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { seedProfile } from "./builtin-profiles.ts";
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
