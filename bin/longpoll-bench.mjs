#!/usr/bin/env node
// `npx longpoll-bench [command] [args]`: every command of the harness through one executable, in one
// Node process. Run directly (./node_modules/.bin/longpoll-bench) its exit codes survive Ctrl-C;
// through npm (`npm run`, `npx`) npm itself takes the SIGINT and exits 130, whatever the run's code
// (run.json's exit_code still says 5).
// The commands are named as the npm scripts are (bench is the default). The TypeScript sources run through tsx, a dependency, so an
// installed package needs nothing from devDependencies.
const COMMANDS = {
  bench: "../bench/cli/bench.ts",
  gate: "../bench/cli/gate.ts",
  baseline: "../bench/cli/baseline.ts",
  compare: "../bench/cli/compare.ts",
  probe: "../bench/cli/probe.ts",
  report: "../bench/cli/report.ts",
  server: "../server/main.ts",
  agent: "../bench/cli/agent.ts",
  "aa-study": "../bench/cli/aa-study.ts",
  "gate-study": "../bench/cli/gate-study.ts",
  "driver-study": "../bench/cli/driver-study.ts",
};
const [first, ...rest] = process.argv.slice(2);
const named = Object.hasOwn(COMMANDS, first ?? "");
// bench first of all: a Ctrl-C while the rest loads still ends the run with exit 5 (early-signals.mjs).
if (!named || first === "bench") await import("../bench/cli/early-signals.mjs");
const { register } = await import("tsx/esm/api");
register();
const entry = new URL(COMMANDS[named ? first : "bench"], import.meta.url).pathname;
process.argv = [process.argv[0], entry, ...(named ? rest : process.argv.slice(2))];
await import(entry);
