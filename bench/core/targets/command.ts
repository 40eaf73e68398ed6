// A target file's lifecycle: start the user's command (once per repeat) on a free port, or attach to
// the URL it names. Output of a command that fails is kept in the run folder (target-<name>.log).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AttachOptions, attachTarget } from "./attach.ts";
import { freePort } from "./free-port.ts";
import { type Readiness, spawnTarget } from "./spawn.ts";
import type { Target } from "./target.ts";
import type { TargetFile } from "./target-file.ts";

export interface StartPlace {
  /** The run folder, where a failing target's output is kept. */
  runDir: string | undefined;
}

export async function startFromFile(
  t: TargetFile,
  place: StartPlace,
  attach: AttachOptions = {},
): Promise<Target> {
  if (t.command === undefined) return attachTarget(t.url as string, t.resolvedProfile, t.name, attach);
  const port = String(await freePort());
  const fill = (text: string) => text.replaceAll("{port}", port);
  const url = new URL(fill(t.url ?? "http://127.0.0.1:{port}"));
  const ready: Readiness =
    "url" in t.ready
      ? { kind: "url", url: new URL(t.ready.url, url), ok2xx: true }
      : "line" in t.ready
        ? { kind: "line", pattern: new RegExp(t.ready.line, "m"), url }
        : { kind: "port", url };
  return spawnTarget({
    name: t.name,
    command: "/bin/sh",
    args: ["-c", fill(t.command)],
    profile: t.resolvedProfile,
    ready,
    cwd: t.cwd === undefined ? t.dir : join(t.dir, t.cwd),
    env: { ...process.env, ...t.env, PORT: port },
    group: true,
    startTimeoutMs: t.start_timeout_ms,
    stopGraceMs: t.stop_grace_ms,
    onFailureOutput: (output) => {
      if (place.runDir) writeFileSync(join(place.runDir, `target-${t.name}.log`), output);
    },
  });
}
