// Progress on stderr. On a terminal: one live status line, rewritten in place: scenario n/N, target,
// repeat, phase, the phase's counts (parked, delivered of expected, errors), elapsed time and an ETA
// from the scenarios' schedules; colours only on a terminal and never with NO_COLOR. Otherwise plain
// lines (CI logs), one per scenario run and phase. Printing only: it receives text, measures nothing.

import type { Progress, RunStart } from "../core/progress.ts";

export type { Progress, RunStart };

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
    : `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== "dumb";
}

export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  quiet = false,
  now: () => number = Date.now,
): Progress {
  if (quiet) return { runStart() {}, phase() {}, detail() {}, line() {}, done() {} };
  const tty = stream.isTTY === true;
  const color = useColor(stream);
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  let run: RunStart | undefined;
  let runStartedAt = now();
  let phase = "";
  let detail = "";
  let shown = false;

  const status = (): string => {
    const elapsed = now() - runStartedAt;
    const eta = run ? Math.max(0, run.etaMs - Math.min(elapsed, run.expectedMs)) : 0;
    const where = run
      ? `[${run.index}/${run.total}] ${clock(elapsed)} ETA ${clock(eta)}  ${run.scenario} @${run.target}${run.repeats > 1 ? ` r${run.repeat + 1}/${run.repeats}` : ""}`
      : "";
    return `${where}  ${phase}${detail ? `: ${detail}` : ""}`;
  };
  const show = () => {
    // Cut to the terminal's width before colouring, so no escape sequence is ever cut in two.
    const width = stream.columns !== undefined && stream.columns > 20 ? stream.columns : 120;
    stream.write(`\r\x1b[2K${paint("36", status().slice(0, width - 1))}`);
    shown = true;
  };
  const clear = () => {
    if (shown) stream.write("\r\x1b[2K");
    shown = false;
  };
  return {
    runStart(r) {
      run = r;
      runStartedAt = now();
      phase = "";
      detail = "";
      if (tty) show();
      else
        stream.write(
          `[${r.index}/${r.total}] ${r.scenario} @${r.target}${r.repeats > 1 ? ` repeat ${r.repeat + 1}/${r.repeats}` : ""} (ETA ${clock(r.etaMs)})\n`,
        );
    },
    phase(scenario, p) {
      phase = p;
      detail = "";
      if (tty) show();
      else stream.write(`[${scenario}] ${p}\n`);
    },
    detail(text) {
      detail = text;
      if (tty) show();
    },
    line(text) {
      if (tty) clear();
      stream.write(`${text}\n`);
      if (tty && run) show();
    },
    done() {
      if (tty) clear();
      run = undefined;
    },
  };
}
