import assert from "node:assert/strict";
import { test } from "node:test";
import { parseJsonText } from "./json-text.ts";

test("a JSON syntax error names its line and column", () => {
  assert.throws(
    () => parseJsonText('{\n  "name": "a",\n  "waiters": 10,\n}\n'),
    /^Error: line 4, column 1: /,
  );
  assert.throws(() => parseJsonText('{"a": 1'), /^Error: line 1, column 8: /);
  assert.deepEqual(parseJsonText('{"a": [1]}'), { a: [1] });
});
