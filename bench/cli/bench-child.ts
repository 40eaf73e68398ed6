// `npm run bench` as a child process writing one results folder: how the study commands (aa-study,
// driver-study), which are many runs of the bench, make each run. Its progress goes to stderr; the
// caller reads the folder.

import { spawnSync } from "node:child_process";
import { tsxNodeArgs } from "../child-process.ts";
import { UsageError } from "../errors.ts";

const BENCH = new URL("./bench.ts", import.meta.url).pathname;

/** Run the bench with `args` into the folder `out`; `what` names the run in the error if it fails. */
export function benchInto(out: string, args: string[], what: string): void {
  const r = spawnSync(process.execPath, [...tsxNodeArgs(), BENCH, ...args, "--out", out, "--quiet"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (r.status !== 0) throw new UsageError(`${what} failed (exit ${r.status}); see ${out}`);
}
