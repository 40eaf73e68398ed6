// Profiles: the schema reports every problem with its path; templates render with their optional
// parts and encodings; answers are classified by the profile's rules (a value, several messages, a
// timeout by status or by a JSON field, an error with its name), and cursors come from the body or
// from headers. The built-in seed profile writes the bytes the hand-written adapter wrote.

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nchanProfile, seedAdapter, seedProfile } from "./builtin-profiles.ts";
import { checkReachable } from "./choose.ts";
import { loadProfile, ProfileError, parseProfile } from "./profile.ts";
import { adapterFromProfile } from "./profile-adapter.ts";
import { pushAdapterFromProfile } from "./push-adapter.ts";
import { profileSupports } from "./supports.ts";
import { loadTargetFile } from "./target-file.ts";

test("a bad profile: every problem at once, each with its path, as a usage error (exit 2)", () => {
  const raw = {
    name: "Bad Name",
    wait: { method: "GET", path: "poll/{channel}" },
    publish: { path: "/p", body: "{value}", bogus: 1 },
    answer: { body: "json" },
    cursor: { from: "headers", send: {} },
    stats: { path: "/s", format: "text" },
  };
  assert.throws(
    () => parseProfile("p.json", raw),
    (e: unknown) => {
      assert.ok(e instanceof ProfileError);
      assert.equal(e.exitCode, 2);
      const text = e.problems.join("\n");
      for (const expected of [
        /p\.json: name: lower-case/,
        /wait\.path: unknown placeholder \{channel\}/,
        /wait\.path: a path starts with \//,
        /publish: Unrecognized key.*bogus/,
        /answer\.value: a json answer needs a value pointer/,
        /cursor\.send: name at least one header pair/,
        /stats\.parked_regex: a text stats page needs parked_regex/,
      ]) {
        assert.match(text, expected);
      }
      return true;
    },
  );
  assert.throws(
    () => loadProfile("no-such-builtin"),
    /no built-in profile "no-such-builtin"; built in: seed, nchan/,
  );
});

test("the seed profile writes the requests the hand-written adapter wrote", () => {
  const body = "key=k1&timeout=60";
  assert.equal(
    seedAdapter.waitRequest("h:1", "k1", 60),
    `POST /get HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  assert.match(seedAdapter.waitRequest("h:1", "a b&c", 5, "41"), /\r\n\r\nkey=a%20b%26c&timeout=5&since=41$/);
  assert.deepEqual(seedAdapter.setRequest("k", "v w"), {
    method: "POST",
    path: "/set",
    body: "key=k&value=v%20w",
    contentType: "application/x-www-form-urlencoded",
  });
  assert.equal(seedAdapter.immediateGetRequest("k")?.body, "key=k&timeout=0");
  assert.deepEqual([...profileSupports(seedProfile)].sort(), [
    "burst",
    "churn",
    "memory-sweep",
    "set-throughput",
    "stream",
    "timeout-storm",
  ]);
  assert.ok(!profileSupports(nchanProfile).includes("timeout-storm"));
});

test("seed answers: a value with its cursor, both timeout shapes, errors with their names", () => {
  assert.deepEqual(seedAdapter.classify(200, '{"error_code":0,"value":"v","version":7}'), {
    kind: "value",
    value: "v",
    cursor: "7",
  });
  assert.deepEqual(seedAdapter.classify(200, '{"error_code":0,"value":"v"}'), { kind: "value", value: "v" });
  assert.equal(seedAdapter.classify(200, '{"error_code":2,"error":"timeout"}').kind, "timeout");
  assert.equal(seedAdapter.classify(200, '{"error_code":2}').kind, "timeout", "the original's timeout");
  assert.deepEqual(seedAdapter.classify(503, '{"error_code":1,"error":"overloaded"}'), {
    kind: "error",
    reason: "HTTP 503 overloaded",
  });
  assert.deepEqual(seedAdapter.classify(404, "<html>"), { kind: "error", reason: "HTTP 404, body not JSON" });
});

test("several messages per answer, a JSON body template, a timeout by an empty list", () => {
  const adapter = adapterFromProfile(
    parseProfile("batch", {
      name: "batch",
      wait: {
        method: "POST",
        path: "/subscribe",
        body: '{"topic":"{key}","wait_ms":{timeout_ms}[[,"after":{cursor}]]}',
        content_type: "application/json",
      },
      publish: {
        method: "POST",
        path: "/publish",
        body: '{"topic":"{key}","data":"{value}"}',
        content_type: "application/json",
      },
      answer: {
        body: "json",
        messages: "/messages",
        value: "/data",
        timeout: [{ status: [200], match: { "/messages/0": null } }],
      },
      cursor: { from: "body", pointer: "/cursor" },
    }),
  );
  assert.match(adapter.waitRequest("h", 'a"b', 1.5), /\r\n\r\n\{"topic":"a\\"b","wait_ms":1500\}$/);
  assert.match(adapter.waitRequest("h", "k", 2, "12"), /\{"topic":"k","wait_ms":2000,"after":12\}$/);
  assert.equal(adapter.setRequest("k", 'x"y').body, '{"topic":"k","data":"x\\"y"}');
  assert.deepEqual(
    adapter.classify(200, '{"cursor":9,"messages":[{"id":8,"data":"a"},{"id":9,"data":"b"}]}'),
    {
      kind: "value",
      value: "a",
      more: ["b"],
      cursor: "9",
    },
  );
  assert.deepEqual(adapter.classify(200, '{"cursor":9,"messages":[]}'), { kind: "timeout", cursor: "9" });
});

test("a cursor from headers goes back as request headers; a timeout by status; a raw-text value", () => {
  const adapter = adapterFromProfile(loadProfile("examples/channel-server/profile.json"));
  assert.deepEqual(adapter.cursorHeaders, ["etag"]);
  assert.deepEqual(adapter.classify(200, "hello", { etag: "5" }), {
    kind: "value",
    value: "hello",
    cursor: "5",
  });
  assert.equal(adapter.classify(204, "").kind, "timeout");
  assert.match(
    adapter.waitRequest("h:2", "news", 30),
    /^GET \/poll\?channel=news&timeout=30 HTTP\/1\.1\r\nHost: h:2\r\n\r\n$/,
  );
  assert.match(adapter.waitRequest("h:2", "news", 30, "5"), /\r\nIf-None-Match: 5\r\n\r\n$/);
  assert.deepEqual(adapter.classify(500, "boom"), { kind: "error", reason: "HTTP 500" });
});

test("target files: relative profile paths, problems of file and profile together; remote needs the flag", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-tf-"));
  const file = join(dir, "t.json");
  writeFileSync(join(dir, "p.json"), JSON.stringify({ ...seedProfile, name: "mine" }));
  writeFileSync(file, JSON.stringify({ name: "mine", profile: "p.json", command: "true {port}" }));
  const t = loadTargetFile(file);
  assert.equal(t.resolvedProfile.name, "mine");
  assert.deepEqual(t.ready, { port: true });
  writeFileSync(file, JSON.stringify({ name: "x", profile: { name: "x" } }));
  assert.throws(
    () => loadTargetFile(file),
    (e: unknown) =>
      e instanceof ProfileError &&
      /give a command to start the server, or the url/.test(e.message) &&
      /profile: publish/.test(e.message),
  );
  assert.throws(() => checkReachable("http://192.0.2.1:80", false, "--target"), /add --allow-remote/);
  checkReachable("http://192.0.2.1:80", true, "--target");
  checkReachable("http://127.0.0.2:80", false, "--target");
});

test("a cursor with an integer offset, from a response header, sent back in the query", () => {
  const next = adapterFromProfile(
    parseProfile("next.json", {
      ...seedProfile,
      name: "next",
      wait: { method: "GET", path: "/events?topic={key}&wait={timeout_s}[[&from={cursor+1}]]" },
      answer: {
        body: "json",
        messages: "/events",
        value: "/data",
        timeout: [{ match: { "/events/0": null } }],
      },
      cursor: { from: "body", pointer: "/last" },
    }),
  );
  assert.match(next.waitRequest("h", "k", 30, "41"), /^GET \/events\?topic=k&wait=30&from=42 HTTP\/1\.1\r\n/);
  assert.match(
    next.waitRequest("h", "k", 30),
    /^GET \/events\?topic=k&wait=30 HTTP/,
    "no cursor yet: the part is left out",
  );
  assert.match(
    next.waitRequest("h", "k", 30, "v7"),
    /^GET \/events\?topic=k&wait=30 HTTP/,
    "no integer, no next",
  );

  const blocking = adapterFromProfile(
    parseProfile("blocking.json", {
      ...seedProfile,
      name: "blocking",
      wait: { method: "GET", path: "/v1/kv/{key}?wait={timeout_s}s[[&index={cursor}]]" },
      answer: { body: "json", messages: "", value: "/Value", timeout: [{ match: { "/0": null } }] },
      cursor: { from: "header", header: "X-Index" },
    }),
  );
  assert.deepEqual(blocking.cursorHeaders, ["x-index"]);
  const answer = blocking.classify(200, '[{"Value":"a"},{"Value":"b"}]', { "x-index": "12" });
  assert.deepEqual(answer, { kind: "value", value: "a", more: ["b"], cursor: "12" });
  assert.match(blocking.waitRequest("h", "k", 30, "12"), /^GET \/v1\/kv\/k\?wait=30s&index=12 HTTP/);

  // A first poll's cursor, before any answer gave one.
  const fromZero = adapterFromProfile(
    parseProfile("zero.json", {
      ...seedProfile,
      name: "zero",
      wait: { method: "GET", path: "/v1/kv/{key}?index={cursor}" },
      cursor: { from: "header", header: "X-Index", first: "0" },
    }),
  );
  assert.match(fromZero.waitRequest("h", "k", 30), /^GET \/v1\/kv\/k\?index=0 HTTP/);
  assert.match(fromZero.waitRequest("h", "k", 30, "9"), /^GET \/v1\/kv\/k\?index=9 HTTP/);
});

test("a placeholder the profile language does not know is refused when the profile loads", () => {
  for (const [path, why] of [
    ["/p?c={cursor*2}", /\{cursor\*2\} is not a placeholder: the only transform is an integer offset/],
    ["/p?c={cursr+1}", /unknown placeholder \{cursr\+1\} here; allowed: .*\{cursor\+N\}/],
    ["/p?k={key}&c={cursor}+1", undefined],
  ] as const) {
    const load = () => parseProfile("p.json", { ...seedProfile, name: "p", wait: { method: "GET", path } });
    if (why === undefined) assert.doesNotThrow(load);
    else
      assert.throws(
        load,
        (e: unknown) =>
          e instanceof ProfileError && why.test(e.message) && /p\.json: wait\.path/.test(e.message),
      );
  }
});

test("push transports: every problem at once; a cursor counts only where a reconnect sends it back", () => {
  const base = { ...seedProfile, name: "push" };
  assert.throws(
    () =>
      parseProfile("p.json", {
        ...base,
        transports: {
          sse: { path: "/events?topic={topic}", resume: "path", data: { body: "text", value: "/v" } },
          websocket: { path: "socket", message: { body: "json" }, subprotocol: "a b" },
        },
      }),
    (e: unknown) => {
      assert.ok(e instanceof ProfileError);
      const text = e.problems.join("\n");
      for (const expected of [
        /transports\.sse\.path: unknown placeholder \{topic\}/,
        /transports\.sse\.data\.body: value, cursor and error pointers need body: json/,
        /transports\.websocket\.path: a path starts with \//,
        /transports\.websocket\.message\.value: a json message needs a value pointer/,
        /transports\.websocket\.subprotocol: a token/,
      ])
        assert.match(text, expected);
      return true;
    },
  );
  assert.throws(
    () => parseProfile("p.json", { ...base, transports: { sse: { path: "/e?k={key}", resume: "path" } } }),
    /transports\.sse\.path: resume "path" sends the cursor back through \{cursor\}/,
  );
  const ws = (path: string, subscribe?: string) =>
    pushAdapterFromProfile(
      parseProfile("p.json", {
        ...base,
        transports: {
          websocket: {
            path,
            ...(subscribe ? { subscribe } : {}),
            message: { body: "json", value: "/v", cursor: "/n" },
          },
        },
      }),
      "websocket",
    );
  assert.equal(ws("/ws?k={key}").hasCursor, false, "a cursor in the messages, but nowhere to send it back");
  assert.equal(ws("/ws?k={key}[[&after={cursor}]]").hasCursor, true);
  assert.equal(ws("/ws", '{"sub":"{key}"[[,"after":{cursor+1}]]}').hasCursor, true);
  const sub = ws("/ws", '{"sub":"{key}"[[,"after":{cursor}]]}');
  assert.equal(sub.subscribeMessage('a"b', undefined), '{"sub":"a\\"b"}', "escaped for a JSON string");
  assert.equal(sub.subscribeMessage("k", "7"), '{"sub":"k","after":7}');
  assert.match(
    sub.openRequest("h:1", "k", undefined, "KEY"),
    /^GET \/ws HTTP\/1\.1\r\nHost: h:1\r\n.*Upgrade: websocket\r\n.*Sec-WebSocket-Key: KEY\r\n/s,
  );
  assert.deepEqual(sub.decode('{"v":"x","n":3}', undefined), { kind: "value", value: "x", cursor: "3" });
  assert.equal(sub.decode("not json", undefined).kind, "error");
  // The reference server's SSE resumes with Last-Event-ID: the header goes with a cursor only.
  const sse = pushAdapterFromProfile(seedProfile, "sse");
  assert.equal(sse.hasCursor, true);
  assert.doesNotMatch(sse.openRequest("h", "k", undefined, ""), /Last-Event-ID/);
  assert.match(
    sse.openRequest("h", "k", "12", ""),
    /\r\nAccept: text\/event-stream\r\n.*Last-Event-ID: 12\r\n\r\n$/s,
  );
});
