// Reads a target's GET /stats with undici (the control path, not the waiter fleet).

import { Pool } from "undici";
import type { TargetStats } from "./target.ts";

interface RawStats {
  waiters?: unknown;
  memory?: { heap_used_bytes?: unknown; rss_bytes?: unknown };
  cpu?: { user_us?: unknown; system_us?: unknown };
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Reads a target's own figures; each kind of target has its own page and format. */
export interface StatsReader {
  read(gc?: boolean): Promise<TargetStats | undefined>;
  close(): Promise<void>;
}

export class StatsClient implements StatsReader {
  private readonly pool: Pool;
  /** Set false after a 404: the target has no /stats (like the original server). */
  available = true;

  constructor(url: URL) {
    this.pool = new Pool(url.origin, { connections: 2, headersTimeout: 5_000, bodyTimeout: 5_000 });
  }

  async read(gc = false): Promise<TargetStats | undefined> {
    if (!this.available) return undefined;
    const res = await this.pool.request({ method: "GET", path: gc ? "/stats?gc=1" : "/stats" });
    const text = await res.body.text();
    if (res.statusCode === 404 || res.statusCode === 405) {
      this.available = false;
      return undefined;
    }
    let raw: RawStats;
    try {
      raw = JSON.parse(text) as RawStats;
    } catch {
      this.available = false;
      return undefined;
    }
    const user = num(raw.cpu?.user_us);
    const system = num(raw.cpu?.system_us);
    return {
      waiters: num(raw.waiters),
      heapUsedBytes: num(raw.memory?.heap_used_bytes),
      rssBytes: num(raw.memory?.rss_bytes),
      cpuUs: user !== undefined && system !== undefined ? user + system : undefined,
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
