// Loaded before anything else (package.json: node --import ./bench/cli/early-signals.mjs --import
// tsx ...). The harness takes a second or more to load its modules, and a Ctrl-C in that time would
// kill it by Node's default before it could write anything, or, remembered, would only be acted on
// once everything had loaded. So a signal that comes while the harness is still loading ends the run
// here, at once: a run.json that says so (exit_code 5, no results) in the run folder the command
// names (--out DIR, else results/<run-id>), claimed as the harness claims one (never over anything),
// then exit 5. Once the harness has loaded, bench/cli/signals.ts takes signals over (release()).
// Plain JavaScript: it runs before the TypeScript loader is in place.

import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLAIM_FILE, newRunId } from "../output/run-id.mjs";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
/** Commands that run nothing: a signal while they load needs no record. */
const NO_RUN = new Set(["--help", "-h", "--list", "-l", "--version", "-V"]);

function outFolder(argv) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === "--out" || a === "-o") && argv[i + 1] !== undefined) return argv[i + 1];
    if (a.startsWith("--out=")) return a.slice("--out=".length);
  }
  return undefined;
}

/** The run's record, written where nothing exists yet; silently nothing where that is not so. */
function recordInterrupted(signal) {
  const argv = process.argv.slice(2);
  if (argv.some((a) => NO_RUN.has(a))) return;
  const runId = newRunId();
  const dir = outFolder(argv) ?? join(process.cwd(), "results", runId);
  try {
    mkdirSync(dir, { recursive: true });
    if (readdirSync(dir).length > 0) return;
    writeFileSync(join(dir, CLAIM_FILE), `${runId} pid ${process.pid}\n`, { flag: "wx" });
    const now = new Date().toISOString();
    const record = {
      tool: "longpoll-bench",
      run_id: runId,
      started_at: now,
      finished_at: now,
      complete: false,
      exit_code: 5,
      command: argv,
      interrupted: `${signal} while the harness was starting; nothing was run`,
      results: [],
    };
    writeFileSync(join(dir, "run.json"), `${JSON.stringify(record, null, 2)}\n`, { flag: "wx" });
    process.stderr.write(`${signal}: stopped while starting; ${join(dir, "run.json")} says so\n`);
  } catch {
    // a folder that cannot be written: the exit code still says it
  }
}

const onSignal = (signal) => {
  recordInterrupted(signal);
  process.exit(5);
};
for (const s of SIGNALS) process.on(s, onSignal);
// For the tests that send signals at moments of the start (hygiene.test.ts): before this line
// Node's own handler kills the process, however long Node's boot takes on a loaded machine.
if (process.env.LPB_ANNOUNCE_SIGNALS === "1") process.stderr.write("early-signals: handled\n");

globalThis[Symbol.for("longpoll-bench.early-signals")] = {
  /** The harness has loaded and takes signals over (a signal before this has ended the process). */
  release() {
    for (const s of SIGNALS) process.off(s, onSignal);
  },
};
