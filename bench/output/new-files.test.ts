// Nothing measured is overwritten: run folders are claimed by one run, even by two runs started at
// the same moment; explicit output files must be new; implicit ones get the next free name.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../errors.ts";
import { newestOf, writeFreshFile, writeNewFile } from "./new-files.ts";
import { createRunFolder } from "./results-folder.ts";
import { CLAIM_FILE } from "./run-id.mjs";

const tmp = () => mkdtempSync(join(tmpdir(), "lpb-new-files-"));

test("a new folder is claimed: a second run on it, before the first wrote anything, is refused", () => {
  const out = join(tmp(), "run");
  createRunFolder(out, "first");
  assert.deepEqual(readdirSync(out), [CLAIM_FILE]);
  assert.throws(() => createRunFolder(out, "second"), UsageError);
  assert.match(readFileSync(join(out, CLAIM_FILE), "utf8"), /^first /);
});

test("an empty folder that exists is taken; one with files, or a file of that name, is refused", () => {
  const dir = tmp();
  mkdirSync(join(dir, "empty"));
  assert.equal(createRunFolder(join(dir, "empty")), join(dir, "empty"));
  writeFileSync(join(dir, "a-file"), "x");
  assert.throws(() => createRunFolder(join(dir, "a-file")), /a file of that name exists; name a new folder/);
});

test("writeNewFile refuses an existing file; writeFreshFile takes the next free name", () => {
  const dir = tmp();
  writeNewFile(join(dir, "x.csv"), "one", "--csv");
  assert.throws(() => writeNewFile(join(dir, "x.csv"), "two", "--csv"), /--csv .*x\.csv: the file exists/);
  assert.equal(readFileSync(join(dir, "x.csv"), "utf8"), "one");
  assert.equal(writeFreshFile(dir, "report.html", "a"), join(dir, "report.html"));
  assert.equal(writeFreshFile(dir, "report.html", "b"), join(dir, "report-2.html"));
  assert.equal(writeFreshFile(dir, "report.html", "c"), join(dir, "report-3.html"));
  assert.equal(readFileSync(join(dir, "report.html"), "utf8"), "a");
  assert.equal(newestOf(dir, "report.html"), join(dir, "report-3.html"));
  assert.equal(newestOf(dir, "compare.csv"), undefined);
});
