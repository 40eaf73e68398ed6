import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultWorkerCount } from "./fleet.ts";

test("default workers: enough for the sockets, and one per 5,000 waiters up to the cores", () => {
  assert.equal(defaultWorkerCount(2000, 2), 1);
  assert.equal(defaultWorkerCount(5000, 2), 1);
  assert.equal(defaultWorkerCount(10_000, 2), 2, "a 10k fan-out is split over both cores");
  assert.equal(defaultWorkerCount(10_000, 1), 1, "not beyond the cores");
  assert.equal(defaultWorkerCount(40_000, 2), 3, "the socket limit wins over the core count");
  assert.equal(defaultWorkerCount(40_000, 16), 8);
  assert.equal(defaultWorkerCount(0, 2), 1);
});
