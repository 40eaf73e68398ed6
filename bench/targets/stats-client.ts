// Reads a target's own figures from the stats page its profile names (the control path, undici):
// the parked count (the exact readiness barrier), and where the page has them, heap, RSS and CPU.
// A page that is missing (404/405) or unreadable is treated as absent from then on.

import { Pool } from "undici";
import type { Profile } from "./profile.ts";
import { pointerTokens, resolvePointer } from "./profile-adapter.ts";
import type { TargetStats } from "./target.ts";

const num = (v: unknown): number | undefined => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
};

/** Reads a target's own figures. */
export interface StatsReader {
  read(gc?: boolean): Promise<TargetStats | undefined>;
  close(): Promise<void>;
}

export class ProfileStats implements StatsReader {
  private readonly pool: Pool | undefined;
  /** Set false after a 404 or an unreadable page: the target has no stats. */
  available: boolean;

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
    const at = (p: string | undefined) =>
      p === undefined ? undefined : num(resolvePointer(doc, pointerTokens(p)));
    const user = at(spec.cpu_user_us);
    const system = at(spec.cpu_system_us);
    return {
      waiters: at(spec.parked),
      heapUsedBytes: at(spec.heap_bytes),
      rssBytes: at(spec.rss_bytes),
      cpuUs: user !== undefined && system !== undefined ? user + system : undefined,
    };
  }

  close(): Promise<void> {
    return this.pool?.close() ?? Promise.resolve();
  }
}
