import assert from "node:assert/strict";
import { test } from "node:test";
import { HttpParseError, ResponseParser } from "./http-response-parser.ts";

const cl = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

test("a Content-Length response, whole", () => {
  const [r] = new ResponseParser().push(cl('{"error_code":0,"value":"v"}'));
  assert.deepEqual(r, { status: 200, body: '{"error_code":0,"value":"v"}' });
});

test("a response split at every byte, and UTF-8 bodies", () => {
  const text = cl('{"value":"héllo ✓"}', "Connection: close\r\n");
  const bytes = Buffer.from(text, "utf8");
  const parser = new ResponseParser(["connection"]);
  const out = [];
  for (let i = 0; i < bytes.length; i++) out.push(...parser.push(bytes.subarray(i, i + 1)));
  assert.equal(out.length, 1);
  assert.equal(out[0]?.body, '{"value":"héllo ✓"}');
  assert.deepEqual(out[0]?.headers, { connection: "close" }, "kept headers only when asked");
  assert.equal(parser.pending, false);
});

test("chunked bodies, with extensions and trailers, split anywhere", () => {
  const text =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" +
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (let cut = 1; cut < text.length; cut++) {
    const parser = new ResponseParser();
    const out = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
    assert.deepEqual(
      out.map((r) => r.body),
      ["hello world", "abc"],
      `cut at ${cut}`,
    );
  }
});

test("several responses in one segment (keep-alive)", () => {
  const out = new ResponseParser().push(cl("a") + cl("bb") + cl("ccc").slice(0, 20));
  assert.deepEqual(
    out.map((r) => r.body),
    ["a", "bb"],
  );
});

test("malformed responses are errors, not hangs", () => {
  assert.throws(() => new ResponseParser().push("HTTX/1.1 200 OK\r\n\r\n"), HttpParseError);
  assert.throws(() => new ResponseParser().push("HTTP/1.1 200 OK\r\nbroken\r\n\r\n"), HttpParseError);
  assert.throws(
    () => new ResponseParser().push("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
    HttpParseError,
  );
  assert.throws(
    () => new ResponseParser().push("HTTP/1.1 200 OK\r\n\r\n"),
    /neither content-length nor chunked/,
  );
  assert.throws(
    () => new ResponseParser().push("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    /bad chunk size/,
  );
});

test("204 and 304 answers have no body, with or without framing headers", () => {
  const parser = new ResponseParser(["etag"]);
  const out = parser.push(
    'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "7"\r\nContent-Length: 12\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  );
  assert.deepEqual(
    out.map((r) => [r.status, r.body, r.headers?.etag]),
    [
      [204, "", undefined],
      [304, "", '"7"'],
      [200, "ok", undefined],
    ],
  );
  assert.equal(parser.pending, false);
});

test("a never-ending chunked answer: an error past the body cap, in time linear in the bytes", () => {
  const parser = new ResponseParser();
  parser.push("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  const chunk = "400\r\n" + "x".repeat(1024) + "\r\n"; // 1 KiB chunks, one per push
  const started = performance.now();
  let pushed = 0;
  assert.throws(() => {
    for (;;) {
      parser.push(chunk);
      pushed++;
    }
  }, /over the 1048576 bytes accepted/);
  assert.equal(pushed, 1024, "the 1,025th KiB is refused");
  // Re-decoding from the start on every chunk took seconds here (quadratic); decoding once, ms.
  assert.ok(performance.now() - started < 1_000, `${(performance.now() - started).toFixed(0)} ms`);
  assert.throws(
    () => new ResponseParser().push("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n"),
    /over the/,
  );
});
