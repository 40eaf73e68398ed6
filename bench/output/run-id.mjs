// A run's id and the file that claims its folder: plain JavaScript, because the early-signals
// preload (cli/early-signals.mjs) needs them before the TypeScript loader is in place, and the
// harness (results-folder.ts) must name runs and claim folders exactly as it does.

/** The file that claims a run folder for one run (created exclusively: never over anything). */
export const CLAIM_FILE = ".longpoll-bench-run";

/** 20261206-111500-k3f9: the start time (UTC) and four random characters. */
export function newRunId(date = new Date()) {
  const stamp = date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
