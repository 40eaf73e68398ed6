// Reads a target's own figures from the stats page its profile names (the control path, undici):
// the parked count (the exact readiness barrier), and where the page has them, heap, RSS and CPU.
// A page that is missing (404/405) or unreadable is treated as absent from then on. A figure that
// cannot be true (negative, or a CPU counter that goes backwards) is not used, and is kept as a
// fault: the run measures on without it, then ends as the target's failure (exit 3), saying why.

import { Pool } from "undici";
import type { Profile } from "./profile.ts";
import { pointerTokens, resolvePointer } from "./profile-adapter.ts";
import type { TargetStats } from "./target.ts";

const num = (v: unknown): number | undefined => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
};

/** A CPU counter that steps back by at most this (or 1%) is read as unchanged, not as a fault. */
const CPU_JITTER_US = 50_000;

/** Every figure a stats page gives (parked, bytes, CPU µs) is a count: never negative. */
type Figure = "parked" | "heap" | "rss" | "cpu";

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
    if (spec.format === "text") {
      const m = new RegExp(spec.parked_regex ?? "$^", "m").exec(text);
      return m ? { waiters: num(m[1]) } : undefined;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      this.available = false;
      return undefined;
    }
    const at = (p: string | undefined, figure: Figure) => {
      const n = p === undefined ? undefined : num(resolvePointer(doc, pointerTokens(p)));
      if (n === undefined || n >= 0) return n;
      this.fault(figure, `its stats page gave ${p} = ${n}, a negative ${figure} figure`);
      return undefined;
    };
    const user = at(spec.cpu_user_us, "cpu");
    const system = at(spec.cpu_system_us, "cpu");
    let cpuUs = user !== undefined && system !== undefined ? user + system : undefined;
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
      waiters: at(spec.parked, "parked"),
      heapUsedBytes: at(spec.heap_bytes, "heap"),
      rssBytes: at(spec.rss_bytes, "rss"),
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
