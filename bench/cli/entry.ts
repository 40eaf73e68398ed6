// The one entry wrapper of every command (bench, compare, gate, baseline): runs main, maps an
// error to its documented exit code (README "Exit codes"; BenchError's own, 70 for a bug), prints it once with
// the command's name, and treats a closed stdout (`| head`) as the reader's choice, not a failure.

import { BenchError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

export type CommandMain = (argv: string[]) => Promise<number> | number;

/** Map an error to what the user sees and the exit code. */
export function exitFor(command: string, error: unknown): { message: string; exitCode: number } {
  if (error instanceof BenchError) {
    // Through npm, the command's own --help comes after "--" (npm run bench --help is npm's help).
    const help = command.startsWith("npm run ") ? `${command} -- --help` : `${command} --help`;
    const hint = error instanceof UsageError ? `\nsee: ${help}` : "";
    return { message: `${command}: ${error.message}${hint}`, exitCode: error.exitCode };
  }
  return {
    message: `${command}: internal error: ${(error as Error)?.stack ?? String(error)}`,
    exitCode: ExitCode.internal,
  };
}

export async function runCommand(command: string, main: CommandMain): Promise<void> {
  // A reader that stops reading (EPIPE) must not turn the run into a failure: results go to files.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    const { message, exitCode } = exitFor(command, error);
    process.stderr.write(`${message}\n`);
    process.exitCode = exitCode;
  }
}
