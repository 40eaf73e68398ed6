// The push transports' parsers: the same messages whatever way the bytes are cut; the format's rules
// (multi-line data, ids that persist, comments, named events; fragments, pings, close); and every
// malformed answer an error that names it, never a silent value.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HttpParseError } from "./http-response-parser.ts";
import {
  clientFrame,
  EventStreamParser,
  type PushParser,
  type PushSink,
  WebSocketParser,
  webSocketAccept,
} from "./push-parsers.ts";

interface Seen {
  opened: number;
  messages: [string, string | undefined][];
  pings: string[];
  ended: string[];
}

function sink(): PushSink & { seen: Seen } {
  const seen: Seen = { opened: 0, messages: [], pings: [], ended: [] };
  return {
    seen,
    opened: () => {
      seen.opened++;
    },
    message: (data, id) => {
      seen.messages.push([data, id]);
    },
    ping: (payload) => {
      seen.pings.push(payload.toString());
    },
    ended: (how) => {
      seen.ended.push(how);
    },
  };
}

/** Feed `bytes` cut into pieces at every pair of cut points (every split into three), and whole. */
function everyCut(make: () => PushParser, bytes: Buffer): Seen[] {
  const runs: Seen[] = [];
  const step = Math.max(1, Math.floor(bytes.length / 60)); // every cut point for small inputs
  for (let a = 0; a <= bytes.length; a += step) {
    for (let b = a; b <= bytes.length; b += step * 3) {
      const p = make();
      const s = sink();
      for (const [from, to] of [
        [0, a],
        [a, b],
        [b, bytes.length],
      ] as const)
        if (to > from) {
          // Each piece in a buffer of its own, at an offset, as a shared read buffer gives them.
          const buf = Buffer.alloc(to - from + 7);
          bytes.copy(buf, 3, from, to);
          p.feed(buf, 3, 3 + to - from, s);
        }
      runs.push(s.seen);
    }
  }
  return runs;
}

const chunked = (...parts: string[]) =>
  parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join("");

describe("EventStreamParser", () => {
  const head =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n";
  const body = chunked(
    "id: 1\ndata: one\n\n",
    ": keep-alive\n\n",
    "id: 2\ndata: two\ndata: lines\n\nevent: compacted\ndata: dropped\n\n",
    "data: no id: keeps 2\r\n\r\nid: 3\nda",
    "ta: é split\n\n",
  );
  const expected: [string, string | undefined][] = [
    ["one", "1"],
    ["two\nlines", "2"],
    ["no id: keeps 2", "2"],
    ["é split", "3"],
  ];

  test("the same events however the bytes are cut, chunked or not", () => {
    for (const bytes of [
      head + body,
      `${head.replace("transfer-encoding: chunked\r\n", "")}id: 1\ndata: one\n\n`,
    ]) {
      const want = bytes.includes("chunked") ? expected : expected.slice(0, 1);
      for (const seen of everyCut(() => new EventStreamParser(), Buffer.from(bytes))) {
        assert.equal(seen.opened, 1);
        assert.deepEqual(seen.messages, want);
        assert.deepEqual(seen.ended, []);
      }
    }
  });

  test("the end of a chunked stream, and the server's shutting_down event, end it", () => {
    const p = new EventStreamParser();
    const s = sink();
    const bytes = Buffer.from(`${head}${chunked("event: shutting_down\ndata: bye\n\n")}0\r\n\r\n`);
    p.feed(bytes, 0, bytes.length, s);
    assert.deepEqual(s.seen.ended, ["event: shutting_down (bye)", "the event stream ended"]);
  });

  test("named events carry values only where the profile says so", () => {
    const p = new EventStreamParser(["update"]);
    const s = sink();
    const bytes = Buffer.from(`${head}${chunked("event: update\ndata: a\n\ndata: plain\n\n")}`);
    p.feed(bytes, 0, bytes.length, s);
    assert.deepEqual(s.seen.messages, [["a", undefined]]);
  });

  test("not an event stream, or not 200: an error that says so", () => {
    for (const [bytes, want] of [
      ["HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", /HTTP 404 to the event-stream request/],
      [
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}",
        /not an event stream: content-type "application\/json"/,
      ],
      [`${head}zz\r\n`, /bad chunk size line/],
    ] as const) {
      const b = Buffer.from(bytes);
      assert.throws(
        () => new EventStreamParser().feed(b, 0, b.length, sink()),
        (e: Error) => {
          assert.ok(e instanceof HttpParseError);
          assert.match(e.message, want);
          return true;
        },
      );
    }
  });
});

/** A server frame (unmasked). */
function serverFrame(opcode: number, payload: string, fin = true): Buffer {
  const p = Buffer.from(payload);
  const head =
    p.length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, p.length])
      : Buffer.from([(fin ? 0x80 : 0) | opcode, 126, p.length >> 8, p.length & 0xff]);
  return Buffer.concat([head, p]);
}

describe("WebSocketParser", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  const accept = webSocketAccept(key);
  const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;

  test("RFC 6455's example key gives its example accept", () => {
    assert.equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("the same messages however the bytes are cut: fragments, a ping between them, a long frame", () => {
    const long = "x".repeat(300);
    const bytes = Buffer.concat([
      Buffer.from(head),
      serverFrame(0x1, '{"version":1}'),
      serverFrame(0x1, "frag", false),
      serverFrame(0x9, "are you there"),
      serverFrame(0x0, "mented é"),
      serverFrame(0x1, long),
      serverFrame(0x8, "\u0003\u00e9shutting_down"),
    ]);
    for (const seen of everyCut(() => new WebSocketParser(accept), bytes)) {
      assert.equal(seen.opened, 1);
      assert.deepEqual(
        seen.messages.map(([m]) => m),
        ['{"version":1}', "fragmented é", long],
      );
      assert.deepEqual(seen.pings, ["are you there"]);
      assert.equal(seen.ended.length, 1);
      assert.match(seen.ended[0] as string, /closed by the server/);
    }
  });

  test("a wrong accept, a refusal, a masked frame: errors that name them", () => {
    const masked = Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x41]);
    for (const [bytes, want] of [
      [Buffer.from(head.replace(accept, "AAAA")), /Sec-WebSocket-Accept does not match/],
      [
        Buffer.from("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
        /HTTP 404 to the WebSocket upgrade/,
      ],
      [Buffer.concat([Buffer.from(head), masked]), /masked frame from the server/],
      [Buffer.concat([Buffer.from(head), serverFrame(0x0, "x")]), /continuation frame with no message/],
    ] as const) {
      assert.throws(
        () => new WebSocketParser(accept).feed(bytes, 0, bytes.length, sink()),
        (e: Error) => {
          assert.ok(e instanceof HttpParseError);
          assert.match(e.message, want);
          return true;
        },
      );
    }
  });

  test("client frames are masked and decode back to their payload", () => {
    for (const n of [0, 5, 125, 126, 70_000]) {
      const payload = Buffer.alloc(n, 0x61);
      const f = clientFrame(0x1, payload);
      assert.equal(f[0], 0x81);
      assert.ok((f[1] as number) & 0x80, "masked");
      const len = (f[1] as number) & 0x7f;
      const at = len < 126 ? 2 : len === 126 ? 4 : 10;
      const mask = f.subarray(at, at + 4);
      const back = Buffer.from(f.subarray(at + 4).map((b, k) => b ^ (mask[k & 3] as number)));
      assert.equal(back.length, n);
      assert.ok(back.equals(payload));
    }
  });
});
