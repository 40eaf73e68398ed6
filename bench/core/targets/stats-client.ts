// Reads a target's own figures from the stats page its profile names (the control path, undici):
// the parked count (the exact readiness barrier), and where the page has them, heap, RSS and CPU.
// A page that is missing (404/405) or unreadable is treated as absent from then on. A figure that
// cannot be true (negative, or a CPU counter that goes backwards) is not used, and is kept as a
// fault: the run measures on without it, then ends as the target's failure (exit 3), saying why.

import { Pool } from "undici";
import type { Profile } from "./profile.ts";
import { pointerTokens, resolvePointer } from "./profile-adapter.ts";
import { metricValue, PROCESS_METRICS, parsePrometheus } from "./prometheus-text.ts";
import type { TargetStats } from "./target.ts";

const num = (v: unknown): number | undefined => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
};

/** A CPU counter that steps back by at most this (or 1%) is read as unchanged, not as a fault. */
const CPU_JITTER_US = 50_000;

/** Every figure a stats page gives (parked, bytes, CPU µs) is a count: never negative. */
type Figure = "parked" | "heap" | "rss" | "cpu";

type StatsSpec = NonNullable<Profile["stats"]>;
/** What a page gave for each figure, and where it was read (for a fault's message). */
type Found = { where: string; value: number | undefined } | undefined;
interface Raw {
  parked: Found;
  heap: Found;
  rss: Found;
  cpuUs: Found;
}

/** Reads a target's own figures. */
export interface StatsReader {
  read(gc?: boolean): Promise<TargetStats | undefined>;
  /** Figures the page gave that cannot be true, once each: the run ends as the target's failure. */
  readonly faults: readonly string[];
  close(): Promise<void>;
}

export class ProfileStats implements StatsReader {
  private readonly pool: Pool | undefined;
  /** Set false after a 404 or an unreadable page: the target has no stats. */
  available: boolean;
  readonly faults: string[] = [];
  private readonly faulted = new Set<Figure>();
  private lastCpuUs: number | undefined;

  constructor(
    url: URL,
    private readonly spec: Profile["stats"],
  ) {
    this.available = spec !== undefined;
    this.pool = spec
      ? new Pool(url.origin, { connections: 2, headersTimeout: 5_000, bodyTimeout: 5_000 })
      : undefined;
  }

  async read(gc = false): Promise<TargetStats | undefined> {
    const spec = this.spec;
    if (!this.available || !spec || !this.pool) return undefined;
    const res = await this.pool.request({
      method: "GET",
      path: gc && spec.gc_path ? spec.gc_path : spec.path,
    });
    const text = await res.body.text();
    if (res.statusCode === 404 || res.statusCode === 405) {
      this.available = false;
      return undefined;
    }
    if (spec.format === "text") return this.figures(this.fromText(spec, text));
    if (spec.format === "prometheus") return this.figures(this.fromPrometheus(spec, text));
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      this.available = false;
      return undefined;
    }
    const at = (p: string | undefined) =>
      p === undefined ? undefined : { where: p, value: num(resolvePointer(doc, pointerTokens(p))) };
    const user = at(spec.cpu_user_us);
    const system = at(spec.cpu_system_us);
    return this.figures({
      parked: at(spec.parked),
      heap: at(spec.heap_bytes),
      rss: at(spec.rss_bytes),
      cpuUs:
        user?.value !== undefined && system?.value !== undefined
          ? { where: `${user.where} + ${system.where}`, value: user.value + system.value }
          : undefined,
    });
  }

  /** A text page: each figure by its regular expression's group 1 (CPU in seconds). */
  private fromText(spec: StatsSpec, text: string): Raw {
    const at = (pattern: string | undefined, scale = 1) => {
      if (pattern === undefined) return undefined;
      const m = new RegExp(pattern, "m").exec(text);
      const value = num(m?.[1]);
      return { where: pattern, value: value === undefined ? undefined : value * scale };
    };
    return {
      parked: at(spec.parked_regex),
      rss: at(spec.rss_regex),
      heap: at(spec.heap_regex),
      cpuUs: at(spec.cpu_seconds_regex, 1e6),
    };
  }

  /** A Prometheus page: each figure by its metric, or the prometheus-process preset's. */
  private fromPrometheus(spec: StatsSpec, text: string): Raw {
    const samples = parsePrometheus(text);
    const preset = spec.preset === "prometheus-process";
    const at = (metric: string | undefined, candidates: readonly string[], scale = 1) => {
      const names = metric !== undefined ? [metric] : preset ? candidates : [];
      for (const name of names) {
        const value = metricValue(samples, name);
        if (value !== undefined) return { where: name, value: value * scale };
      }
      return undefined;
    };
    return {
      parked: at(spec.parked_metric, []),
      rss: at(spec.rss_metric, PROCESS_METRICS.rss),
      heap: at(spec.heap_metric, PROCESS_METRICS.heap),
      cpuUs: at(spec.cpu_seconds_metric, PROCESS_METRICS.cpuSeconds, 1e6),
    };
  }

  /** The figures read, checked: a negative one, or a CPU counter that went back, is a fault. */
  private figures(raw: Raw): TargetStats {
    const at = (r: Raw[keyof Raw], figure: Figure) => {
      const n = r?.value;
      if (n === undefined || n >= 0) return n;
      this.fault(figure, `its stats page gave ${r?.where} = ${n}, a negative ${figure} figure`);
      return undefined;
    };
    let cpuUs = at(raw.cpuUs, "cpu");
    if (cpuUs !== undefined && this.lastCpuUs !== undefined && cpuUs < this.lastCpuUs) {
      // A process's CPU time, as the OS sums it over its threads, can step back a little (seen here:
      // 2.4 ms of 1.02 s on the reference server): read as no progress. A larger step back is a
      // restarted process or a page that lies.
      if (this.lastCpuUs - cpuUs <= Math.max(CPU_JITTER_US, this.lastCpuUs * 0.01)) cpuUs = this.lastCpuUs;
      else {
        this.fault(
          "cpu",
          `its stats page's CPU time went backwards (${this.lastCpuUs} µs, then ${cpuUs} µs)`,
        );
        cpuUs = undefined;
      }
    } else if (cpuUs !== undefined) this.lastCpuUs = cpuUs;
    return {
      waiters: at(raw.parked, "parked"),
      heapUsedBytes: at(raw.heap, "heap"),
      rssBytes: at(raw.rss, "rss"),
      cpuUs,
    };
  }

  private fault(figure: Figure, text: string): void {
    if (this.faulted.has(figure)) return;
    this.faulted.add(figure);
    this.faults.push(`${text}; the figure was not used`);
  }

  close(): Promise<void> {
    return this.pool?.close() ?? Promise.resolve();
  }
}
