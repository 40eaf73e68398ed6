// npm run agent -- --redis redis://HOST:PORT [--name NAME] [--sources 127.0.0.11,127.0.0.12]
// A load agent: runs until stopped (SIGTERM/SIGINT), serving the coordinators that use the same
// Redis (npm run bench -- --agents redis://HOST:PORT). See docs/agents.md.

import { hostname } from "node:os";
import { Agent } from "../core/agents/agent.ts";
import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run agent -- --redis URL [flags]

A load agent: announces itself in the Redis at URL, waits for work from a coordinator
(npm run bench -- --agents URL), runs its share of the waiters with its own driver workers, and
reports back. Runs until SIGTERM or Ctrl-C.

  --redis URL        the coordinating Redis, e.g. redis://10.0.0.5:6379 (required)
  --name NAME        its name in results (default: hostname-pid)
  --sources A,B      local addresses its sockets bind, each socket its own address and port
                     (e.g. 127.0.0.11,127.0.0.12); default: the kernel chooses
  --clock-skew-ms N  FOR TESTING CLOCK CORRECTION ONLY: read this agent's clock N ms off
  -h, --help         show this help`;

async function main(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, {
    redis: { type: "string" },
    name: { type: "string" },
    sources: { type: "string" },
    "clock-skew-ms": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const redisUrl = v.redis as string | undefined;
  if (redisUrl === undefined || !/^rediss?:\/\/./.test(redisUrl))
    throw new UsageError(
      `--redis URL is required, like redis://127.0.0.1:6379${redisUrl ? `, got "${redisUrl}"` : ""}`,
    );
  const name = (v.name as string | undefined) ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new UsageError(`--name must be 1-64 letters, digits, _ . or -, got "${name}"`);
  const sources = ((v.sources as string | undefined) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of sources) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(s)) throw new UsageError(`--sources takes IPv4 addresses, got "${s}"`);
  }
  const skewRaw = v["clock-skew-ms"] as string | undefined;
  const skewMs = skewRaw === undefined ? 0 : Number(skewRaw);
  if (!Number.isFinite(skewMs)) throw new UsageError(`--clock-skew-ms must be a number, got "${skewRaw}"`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const agent = await Agent.start({
    redisUrl,
    name,
    sources,
    skewNs: BigInt(Math.round(skewMs * 1e6)),
    log,
  });
  if (skewMs !== 0) log(`agent ${name}: CLOCK SKEW INJECTED: ${skewMs} ms (testing clock correction)`);
  process.stdout.write(`agent ${name} ready (redis ${redisUrl}, pid ${process.pid})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await agent.stop();
  return 0;
}

await runCommand("agent", main);
