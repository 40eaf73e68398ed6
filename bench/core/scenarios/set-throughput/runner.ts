// set-throughput: autocannon drives /set, then /get of a present value, with no waiters: the plain
// request rate of the target, its non-waiting baseline. Every response time autocannon sees is also
// recorded into this harness's own HDR histogram (µs), so its distribution lands in the same result
// files (latency CSV, .hlog) as every other scenario's.

import autocannon from "autocannon";
import { cpuDelta } from "../../metrics/cpu.ts";
import { encodeHistogram, newHistogram, summarize } from "../../metrics/histograms.ts";
import { keyNames } from "../../plan.ts";
import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import type { ControlRequest } from "../../targets/adapter.ts";
import { controlHeaders, sendOne } from "../../targets/send-one.ts";
import type { SetThroughputScenario } from "./schema.ts";

interface Drive {
  rps: number;
  total: number;
  non2xx: number;
  errors: number;
  histogram: string;
  p50Ms: number;
  p99Ms: number;
  cpuMs: number | undefined;
}

async function drive(api: RunnerApi<SetThroughputScenario>, req: ControlRequest): Promise<Drive> {
  const { scenario: s, target } = api;
  const histogram = newHistogram();
  const cpu0 = await api.readCpu();
  const instance = autocannon({
    url: target.url.origin,
    connections: s.connections,
    duration: s.duration_s,
    requests: [
      {
        method: req.method,
        path: req.path,
        headers: controlHeaders(req),
        ...(req.body === "" ? {} : { body: req.body }),
      },
    ],
  });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
    histogram.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
  });
  let result: Awaited<typeof instance>;
  try {
    result = await api.guard(Promise.resolve(instance));
  } catch (error) {
    instance.stop(); // Ctrl-C or a dying target stops autocannon too
    throw error;
  }
  const cpu = cpuDelta(cpu0, await api.readCpu());
  const summary = summarize(histogram);
  return {
    rps: result.requests.total / Math.max(0.001, result.duration),
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    histogram: encodeHistogram(histogram),
    p50Ms: summary.p50_ms,
    p99Ms: summary.p99_ms,
    cpuMs: cpu.targetMs,
  };
}

export async function runSetThroughput(api: RunnerApi<SetThroughputScenario>): Promise<RunnerOutput> {
  const { scenario: s, target, metric, phases } = api;
  const histograms: NonNullable<RunnerOutput["histograms"]> = {};
  const [key] = keyNames(api.runTag, s.name, api.repeat, 1) as [string];
  const value = "v".repeat(s.value_bytes);
  phases.begin("fire");
  api.progress.detail(`/set with ${s.connections} connections for ${s.duration_s} s`);
  const set = await drive(api, target.adapter.setRequest(key, value));
  histograms.request = set.histogram;
  const totals = { non2xx: set.non2xx, errors: set.errors };
  metric("set_rps", set.rps);
  metric("set_requests", set.total);
  metric("set_latency_p50_ms", set.p50Ms);
  metric("set_latency_p99_ms", set.p99Ms);
  if (set.cpuMs !== undefined && set.total > 0)
    metric("server_cpu_per_set_us", (set.cpuMs * 1000) / set.total);
  const read = target.adapter.immediateGetRequest(key);
  if (s.get && read === undefined) {
    api.warn(`${s.name}: the ${target.profile.name} profile has no read_now request; /get was not measured`);
  }
  if (s.get && read !== undefined) {
    // The value must be there (and not expired) for /get to answer at once.
    await api.guard(sendOne(target, target.adapter.setRequest(key, value)));
    api.progress.detail(`/get of a present value with ${s.connections} connections for ${s.duration_s} s`);
    const get = await drive(api, read);
    histograms.get = get.histogram;
    metric("get_rps", get.rps);
    metric("get_latency_p50_ms", get.p50Ms);
    metric("get_latency_p99_ms", get.p99Ms);
    totals.non2xx += get.non2xx;
    totals.errors += get.errors;
  }
  metric("non_2xx", totals.non2xx);
  metric("request_errors", totals.errors);
  return { histograms };
}
