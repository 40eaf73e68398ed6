// A target someone else started, named by URL (--target). The harness knows no pid: memory and CPU
// come from the target's /stats where it has one. A watcher probes it twice a second, so a target
// that goes away mid-run ends the run with exit 3 instead of a long wait for answers.

import { Pool } from "undici";
import { TargetError } from "../errors.ts";
import type { ProtocolAdapter } from "./adapter.ts";
import { StatsClient } from "./stats-client.ts";
import type { Target } from "./target.ts";

const WATCH_INTERVAL_MS = 500;
/** Consecutive failed probes before the target counts as gone. */
const WATCH_FAILURES = 2;

/** Any HTTP answer proves the target is there; only a failure to connect or to answer counts. */
async function probe(pool: Pool): Promise<string | undefined> {
  try {
    const res = await pool.request({
      method: "GET",
      path: "/healthz",
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await res.body.dump();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
}

export async function attachTarget(rawUrl: string, adapter: ProtocolAdapter): Promise<Target> {
  const url = new URL(rawUrl);
  const probes = new Pool(url.origin, { connections: 1 });
  const first = await probe(probes);
  if (first !== undefined) {
    await probes.close();
    throw new TargetError(`cannot reach target ${url.origin}: ${first}; is the server running there?`);
  }
  let watcher: NodeJS.Timeout | undefined;
  const died = new Promise<string>((resolve) => {
    let failures = 0;
    let busy = false;
    watcher = setInterval(async () => {
      if (busy) return;
      busy = true;
      const failure = await probe(probes);
      busy = false;
      failures = failure === undefined ? 0 : failures + 1;
      if (failure !== undefined && failures >= WATCH_FAILURES) {
        clearInterval(watcher);
        resolve(`target ${url.origin} stopped answering (${failure})`);
      }
    }, WATCH_INTERVAL_MS);
    watcher.unref();
  });
  const statsClient = new StatsClient(url);
  return {
    name: url.origin,
    url,
    pid: undefined,
    adapter,
    stats: (gc?: boolean) => statsClient.read(gc),
    died,
    async checkGone() {
      const failure = await probe(probes);
      return failure === undefined ? undefined : `target ${url.origin} stopped answering (${failure})`;
    },
    async stop() {
      clearInterval(watcher);
      await Promise.all([statsClient.close(), probes.close()]);
    },
  };
}
