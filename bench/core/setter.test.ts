// The setter against a server that answers each key's first /set slowly: the sets of one key must
// reach the server one at a time, in their order, even when they are all due at once (a setter that
// has fallen behind). Several keys still go out side by side.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "node:querystring";
import { test } from "node:test";
import { parseSetValue } from "./set-value.ts";
import { type PlannedSet, runSets } from "./setter.ts";
import { seedProfile } from "./targets/builtin-profiles.ts";
import { adapterFromProfile } from "./targets/profile-adapter.ts";

test("sets of one key arrive one at a time and in order; keys go out side by side", async (t) => {
  const arrived = new Map<string, number[]>();
  const inFlight = new Map<string, number>();
  let mostInFlightPerKey = 0;
  let mostInFlight = 0;
  let total = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (req.url !== "/set") return res.end("{}");
      const { key, value } = parse(body) as { key: string; value: string };
      const seq = parseSetValue(value)?.seq ?? -1;
      arrived.set(key, [...(arrived.get(key) ?? []), seq]);
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      total++;
      mostInFlightPerKey = Math.max(mostInFlightPerKey, inFlight.get(key) as number);
      mostInFlight = Math.max(mostInFlight, total);
      // The first message of each key is held: anything sent meanwhile on that key would overtake it.
      setTimeout(
        () => {
          inFlight.set(key, (inFlight.get(key) as number) - 1);
          total--;
          res.end('{"error_code":0,"version":1}');
        },
        seq === 0 ? 150 : 1,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const keys = ["a", "b", "c"];
  // Every set due at the same instant: 4 messages per key.
  const sets: PlannedSet[] = [0, 1, 2, 3].flatMap((seq) => keys.map((key) => ({ key, offsetMs: 0, seq })));
  const result = await runSets({
    target: { url, adapter: adapterFromProfile(seedProfile), profile: seedProfile },
    sets,
    fireAtNs: process.hrtime.bigint() + 20_000_000n,
  });
  assert.equal(result.errors, 0, JSON.stringify(result.errorReasons));
  assert.equal(result.sent, 12);
  for (const key of keys) assert.deepEqual(arrived.get(key), [0, 1, 2, 3], `key ${key}`);
  assert.equal(mostInFlightPerKey, 1, "never two sets of one key in flight");
  assert.equal(mostInFlight, 3, "the three keys' first sets were in flight together");
});
