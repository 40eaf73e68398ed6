// Loaded before anything else (package.json: node --import ./bench/cli/early-signals.mjs --import
// tsx ...). The harness takes a second or more to load its modules, and a Ctrl-C in that time would
// kill it by Node's default before it could write anything. Here a signal during start-up is only
// remembered; bench/cli/signals.ts takes it over and ends the run at once as interrupted (exit 5,
// with its run.json). A second signal before then leaves at once, as a second Ctrl-C always does.
// Plain JavaScript: it runs before the TypeScript loader is in place.

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
const seen = [];
const remember = (signal) => {
  if (seen.length > 0) process.exit(5);
  seen.push(signal);
};
for (const s of SIGNALS) process.on(s, remember);

globalThis[Symbol.for("longpoll-bench.early-signals")] = {
  /** Stop remembering; the signals that came so far. */
  release() {
    for (const s of SIGNALS) process.off(s, remember);
    return seen.slice();
  },
};
