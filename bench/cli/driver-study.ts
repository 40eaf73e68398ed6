// npm run driver-study -- [--repeat 3] [--waiters 10000] [--targets reference,nchan,node-http] [--warmup N] [--transport T] [--out DIR]
// Is the driver the bottleneck? One command for both tables of docs/perf/2026-11-28-driver-study.md, pinned (target on CPU 0,
// load on CPU 1), repeats interleaved so that the machine's drift falls on both sides alike:
//   each repeat: the harness (fanout-10k, one driver worker, every named target), then the plain
//   raw-socket client against a freshly started reference server.
// Writes DIR/harness-N/ (ordinary results folders), DIR/plain-client.json and DIR/driver-study.md.

import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  fromHarness,
  fromPlainClient,
  type PlainClientRun,
  renderTables,
} from "../analysis/studies/driver-study.ts";
import { pinToCpus, tsxNodeArgs } from "../child-process.ts";
import { processTree } from "../core/metrics/proc.ts";
import { readRunRecord } from "../core/run-record.ts";
import { spawnReference } from "../core/targets/reference.ts";
import { TRANSPORTS, type Transport } from "../core/targets/transports.ts";
import { MAX_WARMUP_WAITERS, warmUpTarget } from "../core/warmup.ts";
import { HostLimitError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { createRunFolder } from "../output/results-folder.ts";
import { parseFlags, positiveInt } from "./args.ts";
import { benchInto } from "./bench-child.ts";
import { runCommand } from "./entry.ts";

const PLAIN_CLIENT = new URL("../core/yardstick/plain-client.ts", import.meta.url).pathname;
const TARGET_CPU = "0";
const LOAD_CPU = "1";

const USAGE = `usage: npm run driver-study -- [--repeat 3] [--waiters 10000] [--targets reference,nchan,node-http] [--warmup N] [--transport T] [--out DIR]

Is the driver the bottleneck? Measures, pinned (target on CPU 0, load on CPU 1), this harness's
driver (one worker) beside a plain raw-socket client, both against the reference server, and the
named targets as the harness measures them; prints both tables and writes DIR/driver-study.md.
With --warmup N every target (the plain client's too) first serves N waiters of its own key, as
npm run bench -- --warmup N does. --transport sse or websocket measures both over that transport
(the harness's SSE or WebSocket driver beside the plain client subscribing the same way; targets
whose profile lacks it are skipped). Needs taskset and at least 2 CPUs; nchan needs
bash scripts/install-peers.sh (or leave it out of --targets).`;

/** One run of the plain client against a reference server started for it, pinned apart. */
async function plainClientRun(
  waiters: number,
  warmup: number,
  transport: Transport,
): Promise<PlainClientRun> {
  const target = await spawnReference({ waiters: Math.max(waiters, warmup) });
  try {
    if (target.pid !== undefined) pinToCpus(processTree(target.pid), TARGET_CPU);
    if (warmup > 0) {
      const w = await warmUpTarget(target, warmup);
      if (w.shortfall) process.stderr.write(`driver-study: warm-up fell short: ${w.shortfall}\n`);
    }
    const child = spawn(
      "taskset",
      [
        "-c",
        LOAD_CPU,
        process.execPath,
        ...tsxNodeArgs(),
        PLAIN_CLIENT,
        "--url",
        target.url.origin,
        "--waiters",
        String(waiters),
        "--transport",
        transport,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new UsageError(`driver-study: the plain client failed (exit ${code})`);
    return JSON.parse(out.trim().split("\n").at(-1) ?? "") as PlainClientRun;
  } finally {
    await target.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, {
    repeat: { type: "string" },
    waiters: { type: "string" },
    targets: { type: "string" },
    warmup: { type: "string" },
    transport: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const repeat = positiveInt("repeat", v.repeat, 20) ?? 3;
  const waiters = positiveInt("waiters", v.waiters, 15_000) ?? 10_000;
  const targets = (v.targets as string | undefined) ?? "reference,nchan,node-http";
  const warmup = v.warmup === "0" ? 0 : (positiveInt("warmup", v.warmup, MAX_WARMUP_WAITERS) ?? 0);
  const transport = ((v.transport as string | undefined) ?? "long-poll") as Transport;
  if (!TRANSPORTS.includes(transport))
    throw new UsageError(`--transport is one of ${TRANSPORTS.join(", ")}, got "${transport}"`);
  if (!targets.split(",").includes("reference"))
    throw new UsageError("--targets must include reference: the load-side table measures against it");
  if (availableParallelism() < 2)
    throw new HostLimitError(
      "driver-study pins the target and the load to separate CPUs: it needs 2 or more",
    );
  if (spawnSync("taskset", ["-V"]).status !== 0)
    throw new HostLimitError("driver-study needs taskset (Debian: apt-get install -y util-linux)");
  const dir = (v.out as string | undefined) ?? join("results", `driver-study-${Date.now()}`);
  createRunFolder(dir); // a new folder, claimed: an earlier study is never overwritten

  const harnessDirs: string[] = [];
  const plain: PlainClientRun[] = [];
  for (let k = 1; k <= repeat; k++) {
    process.stderr.write(`driver-study: repeat ${k} of ${repeat}: the harness (${targets})\n`);
    const out = join(dir, `harness-${k}`);
    benchInto(
      out,
      [
        "fanout-10k",
        "--set",
        `waiters=${waiters}`,
        "--targets",
        targets,
        "--cpus",
        `target=${TARGET_CPU},driver=${LOAD_CPU}`,
        "--workers",
        "1",
        // The plain client runs as any process does: the driver too, so the two are held alike.
        "--driver-sched",
        "normal",
        "--warmup",
        String(warmup),
        "--set",
        `transport=${transport}`,
      ],
      "driver-study: the harness run",
    );
    harnessDirs.push(out);
    process.stderr.write(`driver-study: repeat ${k} of ${repeat}: the plain client\n`);
    plain.push(await plainClientRun(waiters, warmup, transport));
  }
  writeFileSync(join(dir, "plain-client.json"), `${JSON.stringify(plain, null, 2)}\n`);
  const harness = fromHarness(harnessDirs.map(readRunRecord));
  const tables = renderTables(
    [harness.load, fromPlainClient(plain)],
    harness.servers,
    waiters,
    warmup,
    transport,
  );
  writeFileSync(join(dir, "driver-study.md"), `${tables}\n`);
  process.stdout.write(`${tables}\n\nwritten: ${join(dir, "driver-study.md")}\n`);
  return ExitCode.ok;
}

await runCommand("npm run driver-study", main);
