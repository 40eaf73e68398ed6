// A driver worker process: one share of the waiter fleet. It opens raw TCP sockets on the arrival
// schedule, writes pre-built request bytes, parses answers with the small HTTP parser (or, for a push
// transport, the subscription's event stream or WebSocket frames: push-parsers.ts), and records
// into HDR histograms: notification latency (arrival − the set's scheduled send time carried in the
// value), connect latency (connected − scheduled arrival) and timeout lateness. Histograms go back
// encoded. It knows no scenario files and no targets' lifecycles: only the resolved WorkerPlan.

import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { TimelineRecorder } from "../metrics/delivery-timeline.ts";
import { encodeHistogram, newHistogram } from "../metrics/histograms.ts";
import { formatSetValue, messageKey, parseSetValue } from "../set-value.ts";
import type { Classified, ProtocolAdapter } from "../targets/adapter.ts";
import { adapterFromProfile } from "../targets/profile-adapter.ts";
import { type PushAdapter, pushAdapterFromProfile } from "../targets/push-adapter.ts";
import { runArrivals } from "./arrival-schedule.ts";
import { HttpParseError, type OnResponse, ResponseParser } from "./http-response-parser.ts";
import {
  emptyStatus,
  type FromWorker,
  type ToWorker,
  type WorkerPlan,
  type WorkerResults,
  type WorkerStatus,
} from "./messages.ts";
import {
  clientFrame,
  EventStreamParser,
  type PushParser,
  type PushSink,
  WebSocketParser,
  webSocketAccept,
} from "./push-parsers.ts";
import { sourceOf } from "./source-addresses.ts";

const SAMPLE_INTERVAL_MS = 100;
/**
 * One read buffer for every socket of this worker (net's `onread`): the kernel's bytes land here and
 * are parsed at once, synchronously, so reads never overlap. Why: the stream path allocated a Buffer
 * per read and went through Readable's push, emit and read-more ticks for every notification.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** Made-up answers per shape the worker parses before any load (see WaiterShare.primeAnswerPath); not the target's --warmup. */
const PRIMING_ANSWERS = 10_000;
/**
 * What answers still arriving may hold in one worker, all waiters together. One answer may be up to
 * the parser's 1 MiB, but a target that starts an endless or huge answer to each of 1,000 waiters
 * would take a worker to a GiB: past this, the waiter whose answer pushed the total over fails
 * (its bytes freed). The harness's own answers are a few hundred bytes.
 */
export const HELD_BYTES_BUDGET = 64 * 1024 * 1024;
/** A timeout answer this much before its deadline counts as early (timers have ms granularity). */
const EARLY_TOLERANCE_MS = 5;

function send(message: FromWorker): void {
  process.send?.(message);
}

/** This worker's share of the waiters: their sockets, per-waiter state and histograms. */
class WaiterShare {
  private readonly adapter: ProtocolAdapter;
  /** A push transport's adapter (SSE, WebSocket); undefined for long poll. */
  private readonly push: PushAdapter | undefined;
  /** The WebSocket key this worker sends, and the Sec-WebSocket-Accept a 101 must carry for it. */
  private readonly webSocketKey = randomBytes(16).toString("base64");
  private readonly webSocketAccept = webSocketAccept(this.webSocketKey);
  /** Push, stream: messages since the connection was (re)opened (reconnectAfter). */
  private readonly sinceOpen: Uint32Array;
  private readonly hostHeader: string;
  /** Burst and timeout modes write the same bytes on every poll of a key: built once. */
  private readonly requests: Buffer[];
  private readonly sockets: (Socket | undefined)[];
  /** Waiters opened at least once: a reopened one (churn) does not bind its first address and port again. */
  private readonly everOpened: Uint8Array;
  /** Answers received per waiter (burst and timeout modes). */
  private readonly answers: Uint8Array;
  /** Stream mode: the last message number seen per waiter (−1: none yet) and its cursor (from the last answer). */
  private readonly lastSeq: Int32Array;
  private readonly cursors: (string | undefined)[];
  /** When each waiter's current request was written, ns after startAtNs (timeout lateness). */
  private readonly writtenAt: Float64Array;
  private readonly latency = newHistogram();
  private readonly connectLatency = newHistogram();
  private readonly lateness = newHistogram();
  private readonly errorReasons: Record<string, number> = {};
  private readonly status: WorkerStatus = emptyStatus();
  private lastDeliveryNs: bigint | undefined;
  /** Deliveries per 10 ms of arrival, for the report's deliveries-over-time chart. */
  private readonly timeline = new TimelineRecorder();
  /** When the read being parsed arrived (every response it completes arrived then). */
  private readAt = 0n;
  /** Bytes held by unfinished answers over all this worker's parsers (HELD_BYTES_BUDGET). */
  private heldBytes = 0;
  /** The waiter whose read is being parsed (for onResponse; its socket is sockets[reading]). */
  private reading = 0;
  /** Per waiter: its response parser, FAILED / ANSWERED bits, and when it was due to connect (ns after startAtNs). */
  private readonly parsers: (ResponseParser | PushParser | undefined)[];
  private readonly flags: Uint8Array;
  private readonly scheduledAt: Float64Array;
  /** Every socket reads into READ_BUFFER through the shared callback (net's onread, `this` the socket). */
  private readonly onread = { buffer: READ_BUFFER, callback: onRead };
  private readonly onResponse: OnResponse = (status, body, headers) => {
    const i = this.reading;
    this.flags[i] = (this.flags[i] as number) | ANSWERED;
    this.answer(i, this.sockets[i] as Socket, status, body, headers, this.readAt);
  };
  /** A push parser's reports, for the waiter whose read is being parsed (`this.reading`). */
  private readonly pushSink: PushSink = {
    opened: () => {
      const i = this.reading;
      const subscribe = this.push?.subscribeMessage(this.keyOf(i), this.cursors[i]);
      if (subscribe !== undefined) this.sockets[i]?.write(clientFrame(0x1, Buffer.from(subscribe)));
    },
    message: (data, id) => {
      const i = this.reading;
      this.flags[i] = (this.flags[i] as number) | ANSWERED;
      this.pushed(i, data, id, this.readAt);
    },
    ping: (payload) => {
      this.sockets[this.reading]?.write(clientFrame(0xa, payload));
    },
    ended: (how) => {
      const i = this.reading;
      if (this.closing) return;
      // A burst waiter that has its value may see its stream end; anything else lost its stream.
      if (this.plan.mode.kind === "burst" && this.answers[i] === 1) return;
      this.flags[i] = (this.flags[i] as number) | FAILED;
      this.fail(`stream ended by the target: ${how}`);
    },
  };
  private closing = false;
  private startAtNs = 0n;
  /** startAtNs as a number (exact to the ns for 104 days of uptime): compared per answer without a BigInt. */
  private startAtNsNumber = 0;

  /** This host's hrtime → the coordinator's clock (0 on the coordinator's own host). */
  private readonly clockShiftNs: bigint;

  /** Now on the coordinator's clock, ns: arrivals are compared with its scheduled send times. */
  private now(): bigint {
    return process.hrtime.bigint() + this.clockShiftNs;
  }

  constructor(private readonly plan: WorkerPlan) {
    this.clockShiftNs = plan.clock ? BigInt(plan.clock.adjustNs) + BigInt(plan.clock.skewNs) : 0n;
    this.adapter = adapterFromProfile(plan.profile);
    const transport = plan.transport ?? "long-poll";
    this.push = transport === "long-poll" ? undefined : pushAdapterFromProfile(plan.profile, transport);
    this.hostHeader = `${plan.host}:${plan.port}`;
    this.requests = plan.keys.map((key) =>
      Buffer.from(
        this.push
          ? this.push.openRequest(this.hostHeader, key, undefined, this.webSocketKey)
          : this.adapter.waitRequest(this.hostHeader, key, plan.waitTimeoutS),
        "latin1",
      ),
    );
    const n = plan.waiterKeys.length;
    this.sockets = new Array(n);
    this.everOpened = new Uint8Array(n);
    this.answers = new Uint8Array(n);
    this.lastSeq = new Int32Array(n).fill(-1);
    this.cursors = new Array(n);
    this.writtenAt = new Float64Array(n);
    this.parsers = new Array(n);
    this.flags = new Uint8Array(n);
    this.scheduledAt = new Float64Array(n);
    this.sinceOpen = new Uint32Array(n);
    if (this.push) this.primePushPath();
    else this.primeAnswerPath();
  }

  /**
   * Run the answer path (parse, classify, value, histogram) on made-up answers, into throwaway
   * objects, before any load: a fan-out's answers otherwise meet code V8 has not optimised yet.
   * (It lowers the driver's CPU per notification: docs/perf/2026-11-28-design-figures.md, "The
   * driver's warm-up".)
   * Both answer shapes are tried (a JSON document and a bare value): classify keeps what fits.
   */
  private primeAnswerPath(): void {
    const value = formatSetValue(process.hrtime.bigint());
    const histogram = newHistogram();
    const parser = new ResponseParser(this.adapter.cursorHeaders);
    const record: OnResponse = (status, body, headers) => {
      const c = this.adapter.classify(status, body, headers);
      const v = c.kind === "value" ? parseSetValue(c.value) : undefined;
      if (v) histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - v.scheduledNs) / 1000));
    };
    for (const body of [`{"error_code":0,"version":1,"value":"${value}"}`, value]) {
      const bytes = Buffer.from(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`,
        "latin1",
      );
      for (let k = 0; k < PRIMING_ANSWERS; k++) parser.feed(bytes, 0, bytes.length, record);
    }
  }

  /** primeAnswerPath for a push transport: made-up events or frames through the parser and decode. */
  private primePushPath(): void {
    const push = this.push as PushAdapter;
    const histogram = newHistogram();
    const value = formatSetValue(process.hrtime.bigint());
    const data = push.transport === "sse" ? value : JSON.stringify({ key: "k", version: 1, value });
    const sink: PushSink = {
      opened: () => {},
      ping: () => {},
      ended: () => {},
      message: (text, id) => {
        const d = push.decode(text, id);
        const v = d.kind === "value" ? parseSetValue(d.value) : undefined;
        if (v) histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - v.scheduledNs) / 1000));
      },
    };
    let parser: PushParser;
    let bytes: Buffer;
    if (push.transport === "sse") {
      parser = new EventStreamParser(push.valueEvents);
      const head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
      parser.feed(Buffer.from(head, "latin1"), 0, head.length, sink);
      const event = `id: 1\ndata: ${data}\n\n`;
      bytes = Buffer.from(`${event.length.toString(16)}\r\n${event}\r\n`, "latin1");
    } else {
      parser = new WebSocketParser(this.webSocketAccept);
      const head = `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${this.webSocketAccept}\r\n\r\n`;
      parser.feed(Buffer.from(head, "latin1"), 0, head.length, sink);
      const payload = Buffer.from(data, "latin1");
      bytes = Buffer.concat([Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]), payload]);
    }
    for (let k = 0; k < PRIMING_ANSWERS; k++) parser.feed(bytes, 0, bytes.length, sink);
  }

  /** Open waiters [from, to) at their offsets, counted from the batch's first offset. */
  start(startAtNs: bigint, from: number, to: number): void {
    this.startAtNs = startAtNs;
    this.startAtNsNumber = Number(startAtNs);
    const offsets = Float64Array.from(this.plan.offsetsMs.slice(from, to));
    const base = offsets[0] ?? 0;
    for (let i = 0; i < offsets.length; i++) offsets[i] = (offsets[i] as number) - base;
    runArrivals(
      offsets,
      {
        elapsedMs: () => Number(this.now() - startAtNs) / 1e6,
        setTimeout: (fn, ms) => setTimeout(fn, ms),
      },
      (i) => this.open(from + i, startAtNs + BigInt(Math.round((offsets[i] as number) * 1e6))),
      () => send({ type: "arrivals-done" }),
    );
  }

  private fail(reason: string): void {
    this.status.errors++;
    this.errorReasons[reason] = (this.errorReasons[reason] ?? 0) + 1;
  }

  private keyOf(i: number): string {
    return this.plan.keys[this.plan.waiterKeys[i] as number] as string;
  }

  /** The request a waiter writes next (a push transport's: the one that opens its subscription). */
  private request(i: number): Buffer | string {
    const mode = this.plan.mode;
    const keyIndex = this.plan.waiterKeys[i] as number;
    if (this.push) {
      const cursor = this.cursors[i];
      if (cursor === undefined) return this.requests[keyIndex] as Buffer;
      return this.push.openRequest(this.hostHeader, this.keyOf(i), cursor, this.webSocketKey);
    }
    if (mode.kind !== "stream") return this.requests[keyIndex] as Buffer;
    const key = this.plan.keys[keyIndex] as string;
    const next = (this.lastSeq[i] as number) + 1;
    if (!mode.cursor)
      return this.adapter.waitRequest(this.hostHeader, messageKey(key, next), this.plan.waitTimeoutS);
    return this.adapter.waitRequest(this.hostHeader, key, this.plan.waitTimeoutS, this.cursors[i]);
  }

  private poll(i: number, socket: Socket): void {
    this.writtenAt[i] = Number(this.now() - this.startAtNs);
    socket.write(this.request(i));
  }

  /** A fresh parser for waiter i; what its old one held is no longer held. */
  private resetParser(i: number): void {
    this.heldBytes -= this.parsers[i]?.heldBytes ?? 0;
    const push = this.push;
    this.parsers[i] =
      push === undefined
        ? new ResponseParser(this.adapter.cursorHeaders)
        : push.transport === "sse"
          ? new EventStreamParser(push.valueEvents)
          : new WebSocketParser(this.webSocketAccept);
  }

  private open(i: number, scheduledNs: bigint): void {
    this.resetParser(i);
    this.flags[i] = 0;
    this.sinceOpen[i] = 0;
    this.scheduledAt[i] = Number(scheduledNs - this.startAtNs);
    const sources = this.plan.sourceAddresses;
    // A reopened waiter (churn) lets the kernel choose: its first address and port may be in TIME_WAIT.
    const socket = (
      sources === undefined || sources.length === 0 || this.everOpened[i] === 1
        ? connect({ host: this.plan.host, port: this.plan.port, noDelay: true, onread: this.onread })
        : connect({
            host: this.plan.host,
            port: this.plan.port,
            noDelay: true,
            onread: this.onread,
            ...sourceOf(sources, this.plan.workerIndex + i * (this.plan.workers ?? 1)),
          })
    ) as WaiterSocket;
    socket[kWaiter] = i;
    socket[kShare] = this;
    this.sockets[i] = socket;
    this.everOpened[i] = 1;
    this.status.opened++;
    socket.on("connect", onConnect);
    socket.on("error", onError);
    socket.on("close", onClose);
  }

  // A socket's events, as methods the shared listeners below call (`this` is the share): a waiter
  // costs its socket, a parser and a few array slots, and no closures.

  connected(i: number, socket: Socket): void {
    this.status.connected++;
    const connectedAt = Number(this.now() - this.startAtNs);
    this.connectLatency.recordValue(Math.max(1, (connectedAt - (this.scheduledAt[i] as number)) / 1000));
    this.poll(i, socket);
    this.status.written++;
  }

  /** A read of `bytes` into the shared buffer; false stops reading (a malformed answer closed it). */
  read(i: number, socket: Socket, bytes: number): boolean {
    if (socket !== this.sockets[i]) return false; // replaced by churn: its parser is the new socket's
    this.readAt = this.now();
    this.reading = i;
    const parser = this.parsers[i] as ResponseParser | PushParser;
    const before = parser.heldBytes;
    let reason: string | undefined;
    try {
      if (parser instanceof ResponseParser) parser.feed(READ_BUFFER, 0, bytes, this.onResponse);
      else parser.feed(READ_BUFFER, 0, bytes, this.pushSink);
      const held = parser.heldBytes;
      this.heldBytes += held - before;
      if (held > 0 && this.heldBytes > HELD_BYTES_BUDGET)
        reason = `answers still arriving held over ${HELD_BYTES_BUDGET / 2 ** 20} MiB in one driver worker (this one ${held} bytes)`;
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      this.heldBytes += parser.heldBytes - before;
      reason = `bad HTTP response: ${error.message}`;
    }
    if (reason === undefined) return true;
    this.flags[i] = (this.flags[i] as number) | FAILED;
    this.fail(reason);
    this.resetParser(i);
    socket.destroy();
    return false;
  }

  errored(i: number, socket: Socket, error: NodeJS.ErrnoException): void {
    if (this.closing || socket !== this.sockets[i]) return;
    this.flags[i] = (this.flags[i] as number) | FAILED;
    this.fail(error.code ?? error.message);
  }

  closed(i: number, socket: Socket): void {
    if (socket !== this.sockets[i]) return; // replaced by churn
    this.sockets[i] = undefined;
    this.resetParser(i); // an answer cut off mid-way holds nothing any more
    if (!this.closing && this.flags[i] === 0) this.fail("closed before answer");
  }

  private answer(
    i: number,
    socket: Socket,
    status: number,
    body: string,
    headers: Record<string, string> | undefined,
    now: bigint,
  ): void {
    const mode = this.plan.mode;
    const classified = this.adapter.classify(status, body, headers);
    if (classified.kind === "timeout") {
      this.status.timeouts++;
      this.answers[i] = Math.min(255, (this.answers[i] as number) + 1);
      if (mode.kind === "timeout") {
        const lateMs =
          (Number(now - this.startAtNs) - (this.writtenAt[i] as number)) / 1e6 -
          this.plan.waitTimeoutS * 1000;
        if (lateMs < -EARLY_TOLERANCE_MS) this.status.early++;
        this.lateness.recordValue(Math.max(1, lateMs * 1000));
      }
      if (mode.kind === "stream") {
        if (classified.cursor !== undefined) this.cursors[i] = classified.cursor;
        this.poll(i, socket); // keep waiting for the next message
      }
      return;
    }
    if (classified.kind === "error") {
      this.answers[i] = Math.min(255, (this.answers[i] as number) + 1);
      this.fail(classified.reason);
      return;
    }
    if (mode.kind === "stream") {
      this.streamAnswer(i, socket, classified, now);
      return;
    }
    this.burstValue(i, classified.value, now);
  }

  /** Burst: a waiter's value (its first) or a duplicate. */
  private burstValue(i: number, text: string, now: bigint): void {
    const value = parseSetValue(text);
    if (value === undefined) {
      this.fail("value not sent by this harness");
      return;
    }
    if ((this.answers[i] as number) > 0) {
      this.status.duplicates++;
      return;
    }
    this.answers[i] = 1;
    // Asked after the value was sent: it got the stored value, late by its own arrival, not the wake's.
    if (Number(value.scheduledNs) - this.startAtNsNumber < (this.writtenAt[i] as number)) {
      this.status.delivered++;
      this.status.arrivedLate++;
      return;
    }
    this.delivered(value.scheduledNs, now);
  }

  /** A push transport's message: a burst's value, or the stream's next message (no re-poll). */
  private pushed(i: number, data: string, id: string | undefined, now: bigint): void {
    const decoded = (this.push as PushAdapter).decode(data, id);
    if (decoded.kind === "error") {
      this.fail(decoded.reason);
      return;
    }
    const mode = this.plan.mode;
    if (mode.kind !== "stream") {
      this.burstValue(i, decoded.value, now);
      return;
    }
    if (decoded.cursor !== undefined) this.cursors[i] = decoded.cursor;
    const done = this.streamMessage(i, decoded.value, now, mode.messagesPerKey);
    if (!done) this.maybeReconnect(i, mode.reconnectAfter);
  }

  /** Stream with reconnects: after `after` messages on this connection, resume on a new one. */
  private maybeReconnect(i: number, after: number | undefined): boolean {
    if (after === undefined) return false;
    const n = (this.sinceOpen[i] as number) + 1;
    this.sinceOpen[i] = n;
    if (n < after) return false;
    const old = this.sockets[i];
    this.sockets[i] = undefined;
    old?.destroy();
    this.status.reconnects++;
    this.open(i, this.now());
    return true;
  }

  /** Stream mode: every message of the answer in order, then the cursor, then the re-poll (unless done). */
  private streamAnswer(
    i: number,
    socket: Socket,
    answer: Extract<Classified, { kind: "value" }>,
    now: bigint,
  ): void {
    const mode = this.plan.mode as Extract<WorkerPlan["mode"], { kind: "stream" }>;
    let done = this.streamMessage(i, answer.value, now, mode.messagesPerKey);
    if (answer.more)
      for (const v of answer.more) done = this.streamMessage(i, v, now, mode.messagesPerKey) || done;
    if (answer.cursor !== undefined) this.cursors[i] = answer.cursor;
    if (!done && !this.maybeReconnect(i, mode.reconnectAfter)) this.poll(i, socket);
  }

  /** One message of a stream answer; true when it was the key's last (this waiter is done). */
  private streamMessage(i: number, text: string, now: bigint, messagesPerKey: number): boolean {
    const value = parseSetValue(text);
    if (value === undefined) {
      this.fail("value not sent by this harness");
      return false;
    }
    const seq = value.seq ?? 0;
    const last = this.lastSeq[i] as number;
    if (seq === last) this.status.duplicates++;
    else if (seq < last) this.status.outOfOrder++;
    else {
      this.status.lost += seq - last - 1;
      this.lastSeq[i] = seq;
      this.delivered(value.scheduledNs, now);
      return seq === messagesPerKey - 1;
    }
    return false;
  }

  private delivered(scheduledNs: bigint, now: bigint): void {
    this.status.delivered++;
    const latencyUs = Math.max(1, Number(now - scheduledNs) / 1000);
    this.latency.recordValue(latencyUs);
    this.timeline.record(scheduledNs, now, latencyUs);
    this.lastDeliveryNs = now;
  }

  /** Abort and reopen waiters round-robin, `perSecond` of them a second, for `durationMs`. */
  churn(perSecond: number, durationMs: number, finished: () => void): void {
    const startNs = this.now();
    const n = this.sockets.length;
    let done = 0;
    let next = 0;
    const tick = () => {
      const elapsedMs = Number(this.now() - startNs) / 1e6;
      const due = Math.min(
        Math.floor((elapsedMs * perSecond) / 1000),
        Math.floor((durationMs * perSecond) / 1000),
      );
      for (; done < due && n > 0; done++) {
        const i = next;
        next = (next + 1) % n;
        const old = this.sockets[i];
        this.sockets[i] = undefined;
        old?.destroy();
        this.answers[i] = 0;
        this.status.churned++;
        this.open(i, this.now());
      }
      if (elapsedMs >= durationMs) finished();
      else setTimeout(tick, 5);
    };
    tick();
  }

  snapshot(): WorkerStatus {
    const cpu = process.cpuUsage();
    let tail = 0;
    let finished = 0;
    if (this.plan.mode.kind === "stream") {
      // The tail: messages after a waiter's last one are lost too, until they come.
      const last = this.plan.mode.messagesPerKey - 1;
      for (let i = 0; i < this.lastSeq.length; i++) {
        tail += last - (this.lastSeq[i] as number);
        if (this.lastSeq[i] === last) finished++;
      }
    }
    return { ...this.status, lost: this.status.lost + tail, tail, finished, cpuUs: cpu.user + cpu.system };
  }

  results(): WorkerResults {
    return {
      ...this.snapshot(),
      latencyHistogram: encodeHistogram(this.latency),
      connectHistogram: encodeHistogram(this.connectLatency),
      latenessHistogram: encodeHistogram(this.lateness),
      lastDeliveryNs: this.lastDeliveryNs?.toString(),
      timeline: this.timeline.toJSON(),
      errorReasons: { ...this.errorReasons },
    };
  }

  close(): void {
    this.closing = true;
    for (const socket of this.sockets) socket?.destroy();
  }
}

/**
 * Two young-generation collections: what survives two is promoted, so the waiters' sockets and
 * parsers leave the young generation before the fan-out, and its scavenges copy only its own garbage.
 * (Two minor collections cost a third of a full one, and the fan-out gains alike:
 * docs/perf/2026-11-28-design-figures.md, "The driver's settle".)
 */
function collectYoungGarbage(): void {
  const gc = (globalThis as { gc?: (options?: { type: "minor" | "major" }) => void }).gc;
  gc?.({ type: "minor" });
  gc?.({ type: "minor" });
}

const kWaiter = Symbol("waiter index");
const kShare = Symbol("waiter share");
type WaiterSocket = Socket & { [kWaiter]: number; [kShare]: WaiterShare };
const FAILED = 1;
const ANSWERED = 2;

// The listeners every socket shares (`this` is the socket; it knows its waiter and share).
function onConnect(this: WaiterSocket): void {
  this[kShare].connected(this[kWaiter], this);
}
function onRead(this: WaiterSocket, bytes: number): boolean {
  return this[kShare].read(this[kWaiter], this, bytes);
}
function onError(this: WaiterSocket, error: NodeJS.ErrnoException): void {
  this[kShare].errored(this[kWaiter], this, error);
}
function onClose(this: WaiterSocket): void {
  this[kShare].closed(this[kWaiter], this);
}

let share: WaiterShare | undefined;
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
setInterval(() => {
  send({
    type: "sample",
    eventLoopDelayMaxMs: delay.max / 1e6,
  });
  delay.reset();
}, SAMPLE_INTERVAL_MS).unref();

process.on("message", (message: ToWorker) => {
  try {
    switch (message.type) {
      case "plan":
        share = new WaiterShare(message.plan);
        send({ type: "ready", id: message.id });
        return;
      case "start":
        share?.start(BigInt(message.startAtNs), message.from, message.to);
        return;
      case "churn": {
        const { id } = message;
        share?.churn(message.perSecond, message.durationMs, () => send({ type: "churn-done", id }));
        return;
      }
      case "status":
        if (share) send({ type: "status", id: message.id, status: share.snapshot() });
        return;
      case "collect-garbage":
        collectYoungGarbage();
        send({ type: "garbage-collected", id: message.id });
        return;
      case "results":
        if (share) send({ type: "results", id: message.id, results: share.results() });
        return;
      case "close":
        share?.close();
        send({ type: "closed", id: message.id });
        return;
    }
  } catch (error) {
    send({ type: "fatal", message: (error as Error).stack ?? String(error) });
  }
});

// The coordinator going away ends the worker: no orphaned sockets.
process.on("disconnect", () => process.exit(0));
// Exit normally on SIGTERM (the fleet's stop), so that exit hooks such as --cpu-prof run.
process.on("SIGTERM", () => process.exit(0));
