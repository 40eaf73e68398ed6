// A server started as a user would start one, outside the harness, for the tests that attach to it
// by URL: resolves with the URL it prints ("... listening on URL"); it is killed when the test ends.

import { spawn } from "node:child_process";
import type { TestContext } from "node:test";

export function startByHand(
  t: TestContext,
  command: string,
  args: string[],
  stderr: "inherit" | "ignore" = "inherit",
): Promise<string> {
  const server = spawn(command, args, { stdio: ["ignore", "pipe", stderr] });
  t.after(() => server.kill());
  return new Promise<string>((resolve) => {
    let text = "";
    server.stdout.on("data", (c: Buffer) => {
      text += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m?.[1]) resolve(m[1]);
    });
  });
}
