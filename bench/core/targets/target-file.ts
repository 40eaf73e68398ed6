// A target file: a user's server as a target, with no TypeScript to write. It names a profile (a
// built-in name, a profile file, or the profile inline) and either a command the harness runs once
// per repeat (a spawned target: its process tree sampled from /proc, stopped with SIGTERM then
// SIGKILL) or the URL of a server already running (attached; another host needs --allow-remote).
//
//   { "name": "my-server", "profile": "my-profile.json",
//     "command": "python3 my_server.py --port {port}", "ready": { "url": "/healthz" } }
//
// {port} in the command and the URL is a free loopback port the harness picks for each start.
// Relative paths (profile, cwd) are relative to the target file.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { UsageError } from "../../errors.ts";
import { parseJsonText } from "../json-text.ts";
import { parseThresholdRecord, type Threshold } from "../verdict/thresholds.ts";
import { loadProfile, type Profile, ProfileError, parseProfile } from "./profile.ts";

export const TargetFileSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, "letters, digits, . _ @ -"),
    description: z.string().default(""),
    /** A built-in profile name ("seed", "nchan"), a profile file, or the profile itself. */
    profile: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    /** A shell command that starts the server; {port} is replaced by a free port. */
    command: z.string().min(1).optional(),
    /** Where the server answers; default http://127.0.0.1:{port} for a command. */
    url: z.string().optional(),
    /** How to know the command's server is ready: its port accepts connections (default), a path answers 2xx, or a line of its output matches. */
    ready: z
      .union([
        z.object({ port: z.literal(true) }).strict(),
        z.object({ url: z.string().startsWith("/") }).strict(),
        z.object({ line: z.string().min(1) }).strict(),
      ])
      .default({ port: true }),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).default({}),
    start_timeout_ms: z.number().int().positive().max(600_000).default(15_000),
    stop_grace_ms: z.number().int().positive().max(60_000).default(5_000),
    /** Pass/fail conditions for this target in every scenario (core/verdict/thresholds.ts). */
    thresholds: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.command === undefined && t.url === undefined)
      ctx.addIssue({
        code: "custom",
        message: "give a command to start the server, or the url of one that runs",
      });
    if (t.command === undefined && t.url?.includes("{port}"))
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: "{port} needs a command (the harness picks the port for it)",
      });
    if (t.ready && "line" in t.ready) {
      try {
        new RegExp(t.ready.line);
      } catch (error) {
        ctx.addIssue({ code: "custom", path: ["ready", "line"], message: (error as Error).message });
      }
    }
  });

export type TargetFile = z.infer<typeof TargetFileSchema> & {
  /** The profile, resolved and validated. */
  resolvedProfile: Profile;
  /** The folder relative paths start from. */
  dir: string;
  /** Its thresholds, checked against the metric catalogue. */
  parsedThresholds: Threshold[];
  file: string;
};

/** Is this --targets entry a target file (rather than a built-in name)? */
export const isTargetFile = (entry: string) => entry.endsWith(".json");

export function loadTargetFile(path: string): TargetFile {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = parseJsonText(readFileSync(file, "utf8"));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new UsageError(
      e.code === "ENOENT" ? `no target file ${file}` : `target file ${file} is not JSON: ${e.message}`,
    );
  }
  const result = TargetFileSchema.safeParse(raw);
  const problems = result.success
    ? []
    : result.error.issues.map(
        (i) => `${file}: ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`,
      );
  const dir = dirname(file);
  let profile: Profile | undefined;
  const rawProfile = (raw as { profile?: unknown })?.profile;
  try {
    if (typeof rawProfile === "string") profile = loadProfile(rawProfile, dir);
    else if (rawProfile !== undefined) profile = parseProfile(`${file}: profile`, rawProfile);
  } catch (error) {
    if (error instanceof ProfileError) problems.push(...error.problems);
    else throw error;
  }
  const thresholds = parseThresholdRecord(result.data?.thresholds, "target", `${file}: thresholds`);
  problems.push(...thresholds.problems);
  if (problems.length > 0 || !result.success || !profile) throw new ProfileError(problems, "target file");
  return { ...result.data, resolvedProfile: profile, dir, file, parsedThresholds: thresholds.thresholds };
}
