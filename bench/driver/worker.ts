// A driver worker process: one share of the waiter fleet. It opens raw TCP sockets on the arrival
// schedule, writes pre-built request bytes, parses answers with the small HTTP parser, and records
// notification latency (arrival − the set's scheduled send time carried in the value) and connect
// latency (connected − scheduled arrival) into HDR histograms, which it returns encoded.
// It knows no scenario files and no targets' lifecycles: only the resolved WorkerPlan.

import { connect, type Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { encodeHistogram, newHistogram } from "../metrics/histograms.ts";
import { parseSetValue } from "../set-value.ts";
import { adapterByName } from "../targets/registry.ts";
import { runArrivals } from "./arrival-schedule.ts";
import { ResponseParser } from "./http-response-parser.ts";
import type { FromWorker, ToWorker, WorkerPlan, WorkerReport, WorkerStatus } from "./messages.ts";

const SAMPLE_INTERVAL_MS = 100;

function send(message: FromWorker): void {
  process.send?.(message);
}

class Fleet {
  private readonly adapter;
  private readonly requests: Buffer[];
  private readonly sockets: (Socket | undefined)[];
  /** Answers received per waiter: more than one value is a duplicate. */
  private readonly answers: Uint8Array;
  private readonly latency = newHistogram();
  private readonly connectLatency = newHistogram();
  private readonly errorReasons: Record<string, number> = {};
  private readonly status: WorkerStatus = {
    opened: 0,
    connected: 0,
    written: 0,
    delivered: 0,
    duplicates: 0,
    timeouts: 0,
    errors: 0,
    cpuUs: 0,
  };
  private firstDeliveryNs: bigint | undefined;
  private lastDeliveryNs: bigint | undefined;
  private closing = false;
  private startAtNs = 0n;

  constructor(private readonly plan: WorkerPlan) {
    this.adapter = adapterByName(plan.adapter);
    const hostHeader = `${plan.host}:${plan.port}`;
    this.requests = plan.keys.map((key) =>
      Buffer.from(this.adapter.waitRequest(hostHeader, key, plan.waitTimeoutS), "latin1"),
    );
    this.sockets = new Array(plan.waiterKeys.length);
    this.answers = new Uint8Array(plan.waiterKeys.length);
  }

  start(startAtNs: bigint): void {
    this.startAtNs = startAtNs;
    const offsets = Float64Array.from(this.plan.offsetsMs);
    runArrivals(
      offsets,
      {
        elapsedMs: () => Number(process.hrtime.bigint() - startAtNs) / 1e6,
        setTimeout: (fn, ms) => setTimeout(fn, ms),
      },
      (i) => this.open(i),
      () => send({ type: "arrivals-done" }),
    );
  }

  private fail(reason: string): void {
    this.status.errors++;
    this.errorReasons[reason] = (this.errorReasons[reason] ?? 0) + 1;
  }

  private open(i: number): void {
    const scheduledNs = this.startAtNs + BigInt(Math.round((this.plan.offsetsMs[i] as number) * 1e6));
    const socket = connect({ host: this.plan.host, port: this.plan.port, noDelay: true });
    this.sockets[i] = socket;
    this.status.opened++;
    const parser = new ResponseParser();
    let failed = false;
    socket.once("connect", () => {
      this.status.connected++;
      this.connectLatency.recordValue(Math.max(1, Number(process.hrtime.bigint() - scheduledNs) / 1000));
      socket.write(this.requests[this.plan.waiterKeys[i] as number] as Buffer);
      this.status.written++;
    });
    socket.on("data", (chunk: Buffer) => {
      const now = process.hrtime.bigint();
      let responses: ReturnType<ResponseParser["push"]>;
      try {
        responses = parser.push(chunk);
      } catch (error) {
        failed = true;
        this.fail(`bad HTTP response: ${(error as Error).message}`);
        socket.destroy();
        return;
      }
      for (const response of responses) this.answer(i, response.status, response.body, now);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (this.closing) return;
      failed = true;
      this.fail(error.code ?? error.message);
    });
    socket.once("close", () => {
      this.sockets[i] = undefined;
      if (!this.closing && !failed && this.answers[i] === 0) this.fail("closed before answer");
    });
  }

  private answer(i: number, status: number, body: string, now: bigint): void {
    const classified = this.adapter.classify(status, body);
    if (classified.kind === "timeout") {
      this.status.timeouts++;
      this.answers[i] = Math.min(255, (this.answers[i] as number) + 1);
      return;
    }
    if (classified.kind === "error") {
      this.answers[i] = Math.min(255, (this.answers[i] as number) + 1);
      this.fail(classified.reason);
      return;
    }
    const scheduledNs = parseSetValue(classified.value);
    if (scheduledNs === undefined) {
      this.fail("value not sent by this harness");
      return;
    }
    if ((this.answers[i] as number) > 0) {
      this.status.duplicates++;
      return;
    }
    this.answers[i] = 1;
    this.status.delivered++;
    this.latency.recordValue(Math.max(1, Number(now - scheduledNs) / 1000));
    if (this.firstDeliveryNs === undefined) this.firstDeliveryNs = now;
    this.lastDeliveryNs = now;
  }

  snapshot(): WorkerStatus {
    const cpu = process.cpuUsage();
    return { ...this.status, cpuUs: cpu.user + cpu.system };
  }

  report(): WorkerReport {
    return {
      ...this.snapshot(),
      latencyHistogram: encodeHistogram(this.latency),
      connectHistogram: encodeHistogram(this.connectLatency),
      firstDeliveryNs: this.firstDeliveryNs?.toString(),
      lastDeliveryNs: this.lastDeliveryNs?.toString(),
      errorReasons: { ...this.errorReasons },
    };
  }

  close(): void {
    this.closing = true;
    for (const socket of this.sockets) socket?.destroy();
  }
}

let fleet: Fleet | undefined;
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
setInterval(() => {
  send({
    type: "sample",
    eventLoopDelayMaxMs: delay.max / 1e6,
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
  });
  delay.reset();
}, SAMPLE_INTERVAL_MS).unref();

process.on("message", (message: ToWorker) => {
  try {
    switch (message.type) {
      case "plan":
        fleet = new Fleet(message.plan);
        send({ type: "ready" });
        return;
      case "start":
        fleet?.start(BigInt(message.startAtNs));
        return;
      case "status":
        if (fleet) send({ type: "status", status: fleet.snapshot() });
        return;
      case "report":
        if (fleet) send({ type: "report", report: fleet.report() });
        return;
      case "close":
        fleet?.close();
        send({ type: "closed" });
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
