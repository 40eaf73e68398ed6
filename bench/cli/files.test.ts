// Every file a command reads is validated and every CLI fails the documented way: a malformed
// run.json, a suite that is not JSON, baseline's flags and folder.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { suiteFiles } from "../core/scenario.ts";
import { ScenarioError } from "../errors.ts";
import { runCli } from "../testing/run-cli.ts";

const COMPARE = new URL("./compare.ts", import.meta.url).pathname;
const BASELINE = new URL("./baseline.ts", import.meta.url).pathname;

describe("files read by the commands", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-files-"));
  const runDir = (name: string, body: unknown) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "run.json"), JSON.stringify(body));
    return d;
  };

  test("compare on a malformed run.json: exit 2 naming the field, not an internal error", async () => {
    const good = runDir("good", { results: [] });
    const bad = runDir("bad", { results: { oops: 1 } });
    const r = await runCli(COMPARE, [good, bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is not a run\.json written by npm run bench:\n\s+- results: /);
    const badResult = runDir("bad-result", {
      results: [{ scenario: "s", target: "t", repeat: "x", complete: true, metrics: {} }],
    });
    const r2 = await runCli(COMPARE, [good, badResult]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /results\.0\.repeat/);
  });

  test("a suite that is not JSON is a scenario error (exit 2)", () => {
    const scenarios = join(dir, "scn");
    mkdirSync(join(scenarios, "suites"), { recursive: true });
    writeFileSync(join(scenarios, "suites", "broken.json"), "{ not json");
    assert.throws(
      () => suiteFiles("broken", scenarios),
      (e: unknown) => e instanceof ScenarioError && e.exitCode === 2 && /not JSON/.test(e.message),
    );
  });

  test("baseline: --help, bad flags and a folder without thresholds.json are exit 2", async () => {
    const help = await runCli(BASELINE, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--base REF/);
    for (const args of [["--bogus"], ["--base"], ["--baseline", join(dir, "no-such-folder")]]) {
      const r = await runCli(BASELINE, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
  });
});
