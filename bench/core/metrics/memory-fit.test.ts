import assert from "node:assert/strict";
import { test } from "node:test";
import { leastSquares } from "../../statistics/least-squares.ts";
import { perWaiter } from "./memory-fit.ts";

test("a rising fit is bytes per waiter; a falling one is absent with its reason, never clipped to 0", () => {
  const rising = leastSquares([
    [0, 1_000_000],
    [100, 1_100_000],
    [200, 1_200_000],
  ]);
  assert.deepEqual(perWaiter("RSS", rising), { slope: 1_000, r2: 1 });
  const flat = leastSquares([
    [0, 5],
    [100, 5],
  ]);
  assert.deepEqual(perWaiter("heap", flat), { slope: 0, r2: 1 });
  // What a CI machine measured: RSS fell by pages as 150 waiters were parked.
  const falling = leastSquares([
    [0, 60_000_000],
    [50, 57_000_000],
    [100, 55_000_000],
    [150, 52_000_000],
  ]);
  const p = perWaiter("RSS", falling);
  assert.ok("absent" in p, JSON.stringify(p));
  assert.match(
    p.absent,
    /^RSS per waiter not measured: RSS fell as waiters were added \(fitted slope -5[0-9,]+ B per waiter, r² 0\.9\d\d\).*use larger steps$/,
  );
});
