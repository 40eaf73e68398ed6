// The probe's checks of a profile's push transports (SSE, WebSocket), as the driver speaks them: the
// same open request, the same parser (driver/push-parsers.ts), the same decoding. A subscription
// opens, a publish reaches it with the right value, and, where the transport has a cursor, a
// subscriber that drops and resumes from it gets exactly what was published while it was away.

import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import {
  clientFrame,
  EventStreamParser,
  type PushParser,
  WebSocketParser,
  webSocketAccept,
} from "./driver/push-parsers.ts";
import { type Check, statsCountCheck } from "./probe-check.ts";
import { formatSetValue } from "./set-value.ts";
import { type PushAdapter, pushAdapterFromProfile } from "./targets/push-adapter.ts";
import { sendOne } from "./targets/send-one.ts";
import type { Target } from "./targets/target.ts";
import type { PushTransport } from "./targets/transports.ts";

interface Subscriber {
  /** Resolves true once the head was accepted (false: refused or gone, with `failure`). */
  opened: Promise<boolean>;
  values: string[];
  cursor: string | undefined;
  failure: string | undefined;
  /** Resolves once `n` values came, or after `ms`. */
  until(n: number, ms: number): Promise<void>;
  close(): void;
}

function subscribe(target: Target, push: PushAdapter, key: string, cursor?: string): Subscriber {
  const wsKey = randomBytes(16).toString("base64");
  const parser: PushParser =
    push.transport === "sse"
      ? new EventStreamParser(push.valueEvents)
      : new WebSocketParser(webSocketAccept(wsKey));
  const socket = connect({
    host: target.url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(target.url.port),
  });
  const waiting: { n: number; resolve: () => void }[] = [];
  let opened: (ok: boolean) => void = () => {};
  const sub: Subscriber = {
    opened: new Promise<boolean>((r) => {
      opened = r;
    }),
    values: [],
    cursor,
    failure: undefined,
    until: (n, ms) =>
      new Promise<void>((resolve) => {
        if (sub.values.length >= n) return resolve();
        waiting.push({ n, resolve });
        setTimeout(resolve, ms);
      }),
    close: () => socket.destroy(),
  };
  const check = () => {
    for (const w of waiting) if (sub.values.length >= w.n) w.resolve();
  };
  const fail = (why: string) => {
    sub.failure ??= why;
    opened(false);
    for (const w of waiting) w.resolve();
  };
  socket.once("connect", () => socket.write(push.openRequest(target.url.host, key, cursor, wsKey)));
  socket.on("data", (chunk: Buffer) => {
    try {
      parser.feed(chunk, 0, chunk.length, {
        opened: () => {
          const message = push.subscribeMessage(key, cursor);
          if (message !== undefined) socket.write(clientFrame(0x1, Buffer.from(message)));
          opened(true);
        },
        message: (data, id) => {
          const d = push.decode(data, id);
          if (d.kind === "error") return fail(d.reason);
          sub.values.push(d.value);
          if (d.cursor !== undefined) sub.cursor = d.cursor;
          check();
        },
        ping: (payload) => socket.write(clientFrame(0xa, payload)),
        ended: (how) => fail(how),
      });
    } catch (error) {
      fail(`bad answer: ${(error as Error).message}`);
      socket.destroy();
    }
  });
  socket.on("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  socket.on("close", () => fail("connection closed"));
  return sub;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Checks per push transport the profile offers (none: no checks). `required`: a server that only
 * pushes, whose run needs its subscriptions to work (the probe exits 3 when one fails); its stats
 * page is checked on an open subscription too.
 */
export async function pushChecks(
  target: Target,
  key: (name: string) => string,
  required = false,
): Promise<Check[]> {
  const checks: Check[] = [];
  for (const transport of ["sse", "websocket"] as PushTransport[]) {
    if (target.profile.transports?.[transport] === undefined) continue;
    const push = pushAdapterFromProfile(target.profile, transport);
    checks.push(...(await deliveryCheck(target, push, key(`${transport}-push`), required)));
    checks.push(
      push.hasCursor
        ? await resumeCheck(target, push, key(`${transport}-resume`))
        : {
            item: `${transport}: a resumed subscription loses nothing`,
            required: false,
            status: "skip",
            detail: `its messages carry no cursor (transports.${transport}): a stream cannot reconnect`,
          },
    );
  }
  return checks;
}

async function deliveryCheck(
  target: Target,
  push: PushAdapter,
  key: string,
  required: boolean,
): Promise<Check[]> {
  const item = `${push.transport}: a subscription receives a publish with the right value`;
  const sub = subscribe(target, push, key);
  const ok = await Promise.race([sub.opened, sleep(3_000).then(() => false)]);
  if (!ok) {
    sub.close();
    return [
      {
        item,
        required,
        status: "fail",
        detail: `the subscription did not open: ${sub.failure ?? "no answer in 3 s"}; check transports.${push.transport}.path`,
      },
    ];
  }
  await sleep(200); // a server that subscribes by message has had it
  const checks: Check[] = [];
  // A push-only server's readiness barrier counts its open subscriptions.
  if (required)
    checks.push(await statsCountCheck(target, `${push.transport}: stats count the open subscription`));
  const value = formatSetValue(process.hrtime.bigint());
  await sendOne(target, target.adapter.setRequest(key, value));
  await sub.until(1, 3_000);
  sub.close();
  const got = sub.values[0];
  checks.push(
    got === value
      ? { item, required, status: "pass", detail: "the value came on the open subscription" }
      : {
          item,
          required,
          status: "fail",
          detail:
            got === undefined
              ? `nothing came in 3 s${sub.failure ? ` (${sub.failure})` : ""}; check transports.${push.transport} (events, message)`
              : `the value read was ${JSON.stringify(got.slice(0, 60))}, not the one published: check transports.${push.transport}'s value pointer`,
        },
  );
  return checks;
}

async function resumeCheck(target: Target, push: PushAdapter, key: string): Promise<Check> {
  const item = `${push.transport}: a resumed subscription loses nothing`;
  const m = (i: number) => formatSetValue(process.hrtime.bigint(), i);
  const fail = (detail: string): Check => ({ item, required: false, status: "fail", detail });
  const first = subscribe(target, push, key);
  if (!(await Promise.race([first.opened, sleep(3_000).then(() => false)]))) {
    first.close();
    return fail(`the subscription did not open: ${first.failure ?? "no answer in 3 s"}`);
  }
  await sleep(200);
  await sendOne(target, target.adapter.setRequest(key, m(0)));
  await first.until(1, 3_000);
  first.close();
  if (first.cursor === undefined) return fail("the message carried no cursor where the profile says it is");
  const away = [m(1), m(2)];
  for (const v of away) await sendOne(target, target.adapter.setRequest(key, v));
  const again = subscribe(target, push, key, first.cursor);
  await again.until(2, 3_000);
  await sleep(200); // anything more (a duplicate) has come by now
  again.close();
  return JSON.stringify(again.values) === JSON.stringify(away)
    ? {
        item,
        required: false,
        status: "pass",
        detail: "2 messages published while away: both came on resuming, in order",
      }
    : fail(
        `published 2 while away, the resumed subscription got ${again.values.length}${again.failure ? ` (${again.failure})` : ""}; check how transports.${push.transport} sends the cursor back (resume, {cursor})`,
      );
}
