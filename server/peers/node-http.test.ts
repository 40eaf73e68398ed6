// The node-http peer speaks the seed protocol: a
// parked /get is woken by /set, a timeout is answered as the original does, /stats counts the parked
// waiters, and a client that leaves is no longer counted.

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { request } from "undici";
import { createNodeHttpServer } from "./node-http.ts";

async function start(t: { after(fn: () => unknown): void }) {
  const server = createNodeHttpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (path: string, body = "", signal?: AbortSignal) => {
    const res = await request(`${url}${path}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      signal,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const waiters = async () => {
    const res = await request(`${url}/stats`);
    return ((await res.body.json()) as { waiters: number }).waiters;
  };
  const parked = async (n: number) => {
    for (let i = 0; i < 300 && (await waiters()) !== n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await waiters(), n);
  };
  return { call, parked };
}

test("a parked /get is woken by /set with the value; /stats counts it while parked", async (t) => {
  const s = await start(t);
  const waiting = [s.call("/get", "key=a"), s.call("/get", "key=a"), s.call("/get", "key=b")];
  await s.parked(3);
  assert.deepEqual((await s.call("/set", "key=a&value=hello")).body, { error_code: 0 });
  const [first, second] = await Promise.all(waiting.slice(0, 2));
  assert.deepEqual(first?.body, { error_code: 0, value: "hello" });
  assert.deepEqual(second?.body, { error_code: 0, value: "hello" });
  await s.parked(1);
  await s.call("/set", "key=b&value=x");
  assert.equal((await waiting[2])?.body.value, "x");
  await s.parked(0);
  // A present value answers at once.
  assert.equal((await s.call("/get", "key=a&timeout=1")).body.value, "hello");
});

test("a timeout is answered with error_code 2 and the name timeout", async (t) => {
  const s = await start(t);
  const answer = await s.call("/get", "key=t&timeout=0.2");
  assert.deepEqual([answer.status, answer.body.error_code, answer.body.error], [200, 2, "timeout"]);
  await s.parked(0);
});

test("a client that leaves while parked is no longer counted; bad input is an error", async (t) => {
  const s = await start(t);
  const abort = new AbortController();
  const gone = s.call("/get", "key=gone", abort.signal).catch(() => "aborted");
  await s.parked(1);
  abort.abort();
  assert.equal(await gone, "aborted");
  await s.parked(0);
  const missing = await s.call("/set", "key=x");
  assert.deepEqual([missing.status, missing.body.error], [400, "invalid_input"]);
  const unknown = await s.call("/nope", "key=x");
  assert.deepEqual([unknown.status, unknown.body.error], [404, "not_found"]);
});
