// A target someone else started, named by URL (--target). The harness knows no pid: memory and CPU
// come from the target's /stats where it has one.

import { request } from "undici";
import { TargetError } from "../errors.ts";
import type { ProtocolAdapter } from "./adapter.ts";
import { StatsClient } from "./stats-client.ts";
import type { Target } from "./target.ts";

export async function attachTarget(rawUrl: string, adapter: ProtocolAdapter): Promise<Target> {
  const url = new URL(rawUrl);
  try {
    // Any HTTP answer proves it is there; only a connection failure is fatal.
    const res = await request(new URL("/healthz", url), { method: "GET", headersTimeout: 5_000 });
    await res.body.dump();
  } catch (error) {
    const cause = (error as { code?: string }).code ?? (error as Error).message;
    throw new TargetError(`cannot reach target ${url.origin}: ${cause}; is the server running there?`);
  }
  const statsClient = new StatsClient(url);
  return {
    name: url.origin,
    url,
    pid: undefined,
    adapter,
    stats: () => statsClient.read(),
    died: new Promise<string>(() => {}),
    stop: () => statsClient.close(),
  };
}
