import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../errors.ts";
import { parseBenchArgs } from "./args.ts";

test("flags parse into typed options", () => {
  const o = parseBenchArgs([
    "a.json",
    "b.json",
    "--workers",
    "2",
    "--repeat",
    "3",
    "--target",
    "http://127.0.0.1:9",
  ]);
  assert.deepEqual(o.files, ["a.json", "b.json"]);
  assert.equal(o.workers, 2);
  assert.equal(o.repeat, 3);
  assert.equal(o.target, "http://127.0.0.1:9");
  assert.equal(o.warmup, 0, "measured cold unless asked");
  assert.equal(parseBenchArgs(["--warmup", "2000"]).warmup, 2000);
  assert.equal(o.driverSched, undefined, "the session's default (batch) unless asked");
  assert.equal(parseBenchArgs(["--driver-sched", "normal"]).driverSched, "normal");
  assert.equal(parseBenchArgs(["--driver-sched", "batch"]).driverSched, "batch");
  assert.ok(Object.isFrozen(o));
});

test("bad flags are usage errors naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--workers", "0"], /--workers/],
    [["--repeat", "x"], /--repeat/],
    [["--profile", "nchan"], /--profile is the protocol of --target URL/],
    [["--bogus"], /bogus/],
    [["--warmup", "20000"], /--warmup/],
    [["--warmup", "-1"], /--warmup/],
    [["a.json", "--suite", "default"], /not both/],
    [["--driver-sched", "idle"], /--driver-sched takes batch or normal/],
    [["--agents", "redis://127.0.0.1:6379", "--driver-sched", "batch"], /--driver-sched .* with --agents/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseBenchArgs(argv),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && message.test(e.message),
      argv.join(" "),
    );
  }
});
