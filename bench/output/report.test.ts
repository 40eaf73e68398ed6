// report.html in a real browser (Debian's chromium, headless, offline): it loads with no console
// error and no network request, every chart has drawn, and every figure shown equals summary.csv;
// `npm run report` overlays two runs.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseCsv } from "../analysis/run-folders.ts";
import { chromiumMissing, readReport } from "../testing/browser.ts";
import { runCli } from "../testing/run-cli.ts";
import { scenarioFile } from "../testing/scenario-file.ts";

const BENCH = new URL("../cli/bench.ts", import.meta.url).pathname;
const REPORT = new URL("../cli/report.ts", import.meta.url).pathname;

describe("report.html in headless Chromium", { skip: chromiumMissing() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-report-"));
  const burst = scenarioFile(dir, "rep-burst", { waiters: 120, keys: 2, sets: { count: 2 } });
  const sweep = join(dir, "rep-sweep.json");
  writeFileSync(
    sweep,
    JSON.stringify({
      name: "rep-sweep",
      description: "t",
      type: "memory-sweep",
      steps: [50, 100, 150],
      keys: 5,
      step_window_ms: 100,
    }),
  );
  const runA = join(dir, "a");
  const runB = join(dir, "b");

  test("every bench run writes it: no console error, every chart drawn, figures equal summary.csv", async () => {
    const r = await runCli(BENCH, [
      burst,
      sweep,
      "--targets",
      "reference,node-http",
      "--out",
      runA,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Where the page could not be drawn, the warning that says why is on stderr: show both.
    assert.match(r.stdout, /^report: .*a\/report\.html$/m, r.stdout + r.stderr);
    const page = await readReport(join(runA, "report.html"), join(runA, "report.png"));
    assert.deepEqual(page.errors, []);
    const titles = page.charts.map((c) => c.title);
    assert.deepEqual(
      page.banners,
      [{ verdict: "pass", exitCode: String(r.code) }],
      "the verdict banner says the exit code",
    );
    for (const expected of [
      /deliveries per second over time/,
      /parked waiters while connecting \(t = 0 at the first arrival\)/,
      /notification latency .* percentile distribution/,
      /connect latency .* percentile distribution/,
      /reference: parked waiters and memory over time/,
      /node-http: CPU/,
      /memory sweep: waiters vs RSS and heap/,
    ]) {
      assert.ok(
        titles.some((t) => expected.test(t)),
        `a chart ${expected}: ${titles.join(" | ")}`,
      );
    }
    assert.deepEqual(
      page.charts.filter((c) => !c.drawn).map((c) => c.title),
      [],
      "every chart has pixels that are not blank",
    );
    // Every figure the page shows is the value in summary.csv (one repeat: the median is it).
    const summary = parseCsv(readFileSync(join(runA, "summary.csv"), "utf8"));
    assert.ok(page.figures.length >= 10, `${page.figures.length} figures`);
    for (const f of page.figures) {
      const row = summary.find((s) => s.target === f.series && s.metric === f.metric && s.repeat === "0");
      assert.ok(row, `${f.series} ${f.metric} in summary.csv`);
      assert.equal(Number(row?.value), f.value, `${f.series} ${f.metric}`);
    }
    assert.ok(existsSync(join(runA, "report.png")));
    // Who won: a row per headline figure with a direction, the best in bold.
    const html = readFileSync(join(runA, "report.html"), "utf8");
    assert.match(html, /<h2>Who won<\/h2>/);
    // On a phone: nothing wider than the screen (tables scroll in their own box), charts fit.
    const phone = await readReport(join(runA, "report.html"), undefined, false, 390);
    assert.deepEqual(phone.errors, []);
    assert.deepEqual(phone.sticksOut, [], "no element sticks out at 390 px");
    assert.equal(phone.overflowPx, 0, "no sideways scrolling at 390 px");
    assert.ok(phone.charts.every((c) => c.drawn));
  });

  test("npm run report overlays two runs; readable in dark mode", async () => {
    const r = await runCli(BENCH, [burst, "--out", runB, "--quiet"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = join(dir, "both.html");
    const rep = await runCli(REPORT, [runA, runB, "--out", out]);
    assert.equal(rep.code, 0, rep.stderr);
    const page = await readReport(out, undefined, true);
    assert.deepEqual(page.errors, []);
    const series = new Set(page.figures.map((f) => f.series));
    for (const s of ["a / reference", "a / node-http", "b / reference"])
      assert.ok(series.has(s), `${s}: ${[...series].join(", ")}`);
    assert.ok(page.charts.every((c) => c.drawn));
    // Without --out, an overlay goes into results/ where the command runs, in neither run's folder.
    const here = await runCli(REPORT, [runA, runB], undefined, dir);
    assert.equal(here.code, 0, here.stderr);
    assert.match(here.stdout, /^report: results\/report-a-vs-b\.html$/m);
    assert.ok(existsSync(join(dir, "results", "report-a-vs-b.html")));
    const bad = await runCli(REPORT, [join(dir, "nope")]);
    assert.equal(bad.code, 2);
  });
});
