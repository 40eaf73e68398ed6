import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_HEAD_BYTES, readRequestHead } from "./request-head.ts";

const plain =
  "POST /get?timeout=5 HTTP/1.1\r\nHost: h\r\ncontent-type: Application/X-WWW-Form-Urlencoded; charset=utf-8\r\n" +
  "Content-Length: 5\r\n\r\nkey=a";

test("a plain request: method, target, body offset and length, content type, keep-alive", () => {
  const head = readRequestHead(Buffer.from(plain), 0);
  assert.deepEqual(head, {
    kind: "request",
    method: "POST",
    target: "/get?timeout=5",
    bodyStart: plain.length - 5,
    contentLength: 5,
    contentType: "application/x-www-form-urlencoded; charset=utf-8",
    close: false,
  });
});

test("a head split anywhere is incomplete until its blank line arrives", () => {
  const bytes = Buffer.from(plain);
  const headEnd = plain.indexOf("\r\n\r\n") + 4;
  for (let cut = 0; cut < headEnd; cut++) {
    assert.equal(readRequestHead(bytes.subarray(0, cut), 0).kind, "incomplete", `cut at ${cut}`);
  }
  assert.equal(readRequestHead(bytes.subarray(0, headEnd), 0).kind, "request");
});

test("reads from an offset (the next pipelined request)", () => {
  const two = Buffer.from(plain + plain);
  const head = readRequestHead(two, plain.length);
  assert.equal(head.kind === "request" && head.bodyStart, 2 * plain.length - 5);
});

test("Connection: close, alone or among other options", () => {
  for (const value of ["close", "Close", "keep-alive, close", "close ,te"]) {
    const head = readRequestHead(
      Buffer.from(`POST /get HTTP/1.1\r\nHost: h\r\nConnection: ${value}\r\n\r\n`),
      0,
    );
    assert.equal(head.kind === "request" && head.close, true, value);
  }
  const keep = readRequestHead(Buffer.from("POST /get HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n"), 0);
  assert.equal(keep.kind === "request" && keep.close, false);
});

test("every shape it does not serve is declined (Node's parser judges those)", () => {
  const declined: Record<string, string> = {
    chunked: "POST /get HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
    "content-length and transfer-encoding":
      "POST /get HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    "two content-lengths": "POST /get HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "signed content-length": "POST /get HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
    "expect 100-continue": "POST /get HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
    upgrade: "POST /get HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "HTTP/1.0": "POST /get HTTP/1.0\r\nHost: h\r\n\r\n",
    "no Host": "POST /get HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "two Hosts": "POST /get HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "obs-fold": "POST /get HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  2\r\n\r\n",
    "space before colon": "POST /get HTTP/1.1\r\nHost : h\r\n\r\n",
    "control byte in a value": "POST /get HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n",
    "absolute-form target": "POST http://h/get HTTP/1.1\r\nHost: h\r\n\r\n",
    "lower-case method": "post /get HTTP/1.1\r\nHost: h\r\n\r\n",
    "bare LF, complete": "POST /get HTTP/1.1\nHost: h\n\n",
    "bare LF inside CRLF lines": "POST /get HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n",
    "oversized head": `POST /get HTTP/1.1\r\nHost: h\r\nX-Big: ${"a".repeat(MAX_HEAD_BYTES)}\r\n\r\n`,
    "oversized and still incomplete": `POST /get HTTP/1.1\r\nHost: h\r\nX-Big: ${"a".repeat(MAX_HEAD_BYTES)}`,
  };
  for (const [what, text] of Object.entries(declined)) {
    assert.equal(readRequestHead(Buffer.from(text, "latin1"), 0).kind, "other", what);
  }
});
