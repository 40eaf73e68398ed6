// Progress on stderr: one rewritten status line on a terminal, plain lines otherwise (CI logs).
// Printing only: it receives text, it measures nothing.

export interface Progress {
  /** A new phase began. */
  phase(scenario: string, phase: string): void;
  /** A detail of the current phase (e.g. parked 4,210 / 5,000); shown on terminals only. */
  detail(text: string): void;
  /** A line that stays. */
  line(text: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  if (quiet) return { phase() {}, detail() {}, line() {}, done() {} };
  const tty = stream.isTTY === true;
  let head = "";
  let shown = false;
  const show = (text: string) => {
    stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 120) - 1)}`);
    shown = true;
  };
  const clear = () => {
    if (shown) stream.write("\r\x1b[2K");
    shown = false;
  };
  return {
    phase(scenario, phase) {
      head = `[${scenario}] ${phase}`;
      if (tty) show(`${head} …`);
      else stream.write(`${head}\n`);
    },
    detail(text) {
      if (tty) show(`${head}: ${text}`);
    },
    line(text) {
      if (tty) clear();
      stream.write(`${text}\n`);
    },
    done() {
      if (tty) clear();
    },
  };
}
