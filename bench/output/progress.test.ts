// The progress display: on a terminal one status line with n/N, elapsed and ETA, the phase and its
// counts, no colour with NO_COLOR; off a terminal plain lines only, never escape codes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createProgress, useColor } from "./progress.ts";

function fakeStream(isTTY: boolean, columns = 100) {
  const out: string[] = [];
  const stream = { isTTY, columns, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out.join("") };
}

const run = {
  index: 2,
  total: 5,
  scenario: "fanout-1k",
  target: "reference",
  repeat: 0,
  repeats: 3,
  etaMs: 40_000,
  expectedMs: 10_000,
};

test("a terminal gets one live line: n/N, elapsed and ETA, scenario, target, repeat, phase and counts", () => {
  let now = 1_000_000;
  const { stream, text } = fakeStream(true);
  const p = createProgress(stream, false, () => now);
  p.runStart(run);
  p.phase("fanout-1k", "collect");
  now += 4_000;
  p.detail("delivered 600 / 1000, errors 0");
  const last = text().split("\r\x1b[2K").pop() ?? "";
  const ESC = String.fromCharCode(27);
  const plain = last
    .split(ESC)
    .map((part) => part.replace(/^\[[0-9;]*m/, ""))
    .join("");
  assert.equal(
    plain,
    "[2/5] 00:04 ETA 00:36  fanout-1k @reference r1/3  collect: delivered 600 / 1000, errors 0",
  );
  assert.ok(!text().includes("\n"), "rewritten in place, no new lines");
});

test("off a terminal: plain lines, no escape codes, no details", () => {
  const { stream, text } = fakeStream(false);
  const p = createProgress(stream, false);
  p.runStart(run);
  p.phase("fanout-1k", "connect");
  p.detail("opened 10 / 1000");
  assert.equal(text(), "[2/5] fanout-1k @reference repeat 1/3 (ETA 00:40)\n[fanout-1k] connect\n");
});

test("colour only on a terminal, never with NO_COLOR", () => {
  assert.equal(useColor({ isTTY: true }, {}), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: "1" }), false);
  assert.equal(useColor({ isTTY: false }, {}), false);
});
