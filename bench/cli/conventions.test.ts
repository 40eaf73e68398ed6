// What users of such tools expect from the command line, through the package's bin (npx): a version,
// scenarios by name with a suggestion for a typo, fields overridden with --set (validated), a JSON
// summary for scripts, short flags, a table that fits 120 columns with a legend.

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../testing/run-cli.ts";

const BIN = new URL("../../bin/longpoll-bench.mjs", import.meta.url).pathname;

/** The package's bin, run as npx runs it (through node; tsx is its own loader). */
const bin = (args: string[]) => runCli(BIN, args);

describe("command-line conventions", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-conv-"));

  test("--version, a mistyped scenario or suite gets a suggestion, --set is validated like the file", async () => {
    const v = await bin(["--version"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^longpoll-bench \d+\.\d+\.\d+\n$/);
    const typo = await bin(["fanout-1kk"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no scenario "fanout-1kk" in scenarios\/; did you mean fanout-1\d?k\?/);
    const suite = await bin(["-s", "defualt"]);
    assert.equal(suite.code, 2);
    assert.match(suite.stderr, /did you mean default\?/);
    const bad = await bin(["fanout-1k", "--set", "waiters=0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /fanout-1k\.json: waiters:/);
    const nonsense = await bin(["fanout-1k", "--set", "no_such_field=1"]);
    assert.equal(nonsense.code, 2);
    assert.match(nonsense.stderr, /no_such_field/);
  });

  test("a scenario by name, --set overrides, short flags and --json for scripts", async () => {
    const out = join(dir, "json");
    const r = await bin([
      "fanout-1k",
      "--set",
      "waiters=150",
      "--set",
      "arrival.window_ms=200",
      "-o",
      out,
      "-q",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.complete, true);
    assert.equal(summary.exit_code, 0);
    assert.equal(summary.results[0].scenario, "fanout-1k");
    assert.equal(summary.results[0].metrics.delivered, 150);
    assert.match(summary.report, /report\.html$/);
  });

  test("the summary table fits 120 columns, with a legend; --wide shows every column", async () => {
    const r = await bin(["fanout-1k", "--set", "waiters=100", "-o", join(dir, "table"), "-q"]);
    assert.equal(r.code, 0, r.stderr);
    const table = r.stdout.split("\n\nlegend")[0] ?? "";
    for (const line of table.split("\n")) assert.ok(line.length <= 120, `${line.length}: ${line}`);
    assert.match(
      r.stdout,
      /legend \(every figure is in summary\.csv; all columns: --wide\):\n {2}parked ms /,
    );
    const wide = await bin(["fanout-1k", "--set", "waiters=100", "-o", join(dir, "wide"), "-q", "--wide"]);
    assert.match(wide.stdout, /in window .* overflows .* conn p99/);
  });
});
