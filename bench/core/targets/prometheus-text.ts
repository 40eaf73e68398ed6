// The Prometheus text exposition format, as far as a stats page needs it: samples by metric name and
// labels, values in any float notation (1.2e+07), NaN and ±Inf read as no figure. Comments (# HELP,
// # TYPE) and timestamps are skipped.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

const labelsOf = (text: string | undefined): Record<string, string> => {
  const labels: Record<string, string> = {};
  for (const m of (text ?? "").matchAll(LABEL))
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, "$1");
  return labels;
};

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    samples.push({ name: m[1] as string, labels: labelsOf(m[2]), value });
  }
  return samples;
}

/** The value of `name` or `name{label="v",...}`: the first sample with that name and those labels. */
export function metricValue(samples: readonly Sample[], metric: string): number | undefined {
  const m = /^([^{]+)(?:\{(.*)\})?$/.exec(metric.trim());
  if (!m) return undefined;
  const name = m[1] as string;
  const wanted = labelsOf(m[2]);
  return samples.find((s) => s.name === name && Object.entries(wanted).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

/** The prometheus-process preset: each figure's candidates, the first present used. */
export const PROCESS_METRICS = {
  rss: ["process_resident_memory_bytes"],
  heap: ["nodejs_heap_size_used_bytes", "go_memstats_heap_alloc_bytes"],
  cpuSeconds: ["process_cpu_seconds_total"],
} as const;
