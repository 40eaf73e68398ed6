#!/usr/bin/env node
// `npx longpoll-bench [command] [args]`: every command of the harness through one executable, in one
// Node process (so its exit codes survive Ctrl-C: `npm run` turns an interrupted run into 130).
// command: bench (default), compare, gate, baseline, probe, report, server.
import { register } from "tsx/esm/api";

register();
const COMMANDS = {
  bench: "../bench/cli/bench.ts",
  compare: "../bench/cli/compare.ts",
  gate: "../bench/cli/gate.ts",
  baseline: "../bench/cli/baseline.ts",
  probe: "../bench/cli/probe.ts",
  report: "../bench/cli/report.ts",
  server: "../server/main.ts",
};
const [first, ...rest] = process.argv.slice(2);
const named = Object.hasOwn(COMMANDS, first ?? "");
const entry = new URL(COMMANDS[named ? first : "bench"], import.meta.url).pathname;
process.argv = [process.argv[0], entry, ...(named ? rest : process.argv.slice(2))];
await import(entry);
