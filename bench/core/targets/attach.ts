// A target someone else started, named by URL (--target, or a target file with a url and no
// command), on loopback or, opted in with --allow-remote, on another host. On loopback the harness
// finds the process listening on the port (listening-process.ts) and samples its process tree from
// /proc as it does a spawned target's (--no-proc turns that off); elsewhere, or where it cannot find
// it, memory and CPU come from the stats page its profile names, where it has one, and are
// unavailable otherwise (absent, never 0; procMissing says why where the process was looked for and not found). A watcher probes its health path twice a second, so a target that
// goes away mid-run ends the run with exit 3 instead of a long wait for answers.

import { Pool } from "undici";
import { TargetError } from "../../errors.ts";
import { isLoopback } from "../choices.ts";
import { readProcessTree } from "../metrics/proc.ts";
import { findListeningProcess } from "./listening-process.ts";
import type { Profile } from "./profile.ts";
import { adapterFromProfile } from "./profile-adapter.ts";
import { ProfileStats } from "./stats-client.ts";
import type { Target } from "./target.ts";

const WATCH_INTERVAL_MS = 500;
/** Consecutive failed probes before the target counts as gone. */
const WATCH_FAILURES = 2;

/** Any HTTP answer proves the target is there; only a failure to connect or to answer counts. */
async function probe(pool: Pool, path: string): Promise<string | undefined> {
  try {
    const res = await pool.request({
      method: "GET",
      path,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await res.body.dump();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
}

export interface AttachOptions {
  /** Sample the listening process from /proc where it runs here (default true; --no-proc: false). */
  proc?: boolean;
}

/**
 * The process to sample; or, where one was looked for on this host and not found, why (the run
 * warns). --no-proc and another host look for none: nothing to warn of.
 */
function processOf(url: URL, options: AttachOptions): { pid?: number; missing?: string } {
  if (options.proc === false || !isLoopback(url.hostname)) return {};
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const found = findListeningProcess(port);
  return "reason" in found ? { missing: `no /proc figures: ${found.reason}` } : { pid: found.pid };
}

export async function attachTarget(
  rawUrl: string,
  profile: Profile,
  name?: string,
  options: AttachOptions = {},
): Promise<Target> {
  const url = new URL(rawUrl);
  const probes = new Pool(url.origin, { connections: 1 });
  const health = profile.health;
  const first = await probe(probes, health);
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
      const failure = await probe(probes, health);
      busy = false;
      failures = failure === undefined ? 0 : failures + 1;
      if (failure !== undefined && failures >= WATCH_FAILURES) {
        clearInterval(watcher);
        resolve(`target ${url.origin} stopped answering (${failure})`);
      }
    }, WATCH_INTERVAL_MS);
    watcher.unref();
  });
  const statsClient = new ProfileStats(url, profile.stats);
  const proc = processOf(url, options);
  const pid = proc.pid;
  return {
    name: name ?? url.origin,
    url,
    // Not ours to stop or pin: `pid` stays for spawned targets; the sample comes from procSample.
    pid: undefined,
    ...(proc.missing ? { procMissing: proc.missing } : {}),
    profile,
    adapter: adapterFromProfile(profile),
    procSample: () => (pid === undefined ? undefined : readProcessTree(pid)),
    stats: (gc?: boolean) => statsClient.read(gc),
    statsFaults: () => statsClient.faults,
    died,
    async checkGone() {
      const failure = await probe(probes, health);
      return failure === undefined ? undefined : `target ${url.origin} stopped answering (${failure})`;
    },
    async stop() {
      clearInterval(watcher);
      await Promise.all([statsClient.close(), probes.close()]);
    },
  };
}
