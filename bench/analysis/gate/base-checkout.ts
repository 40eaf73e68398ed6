// The base side of the gate: a commit checked out in a git worktree beside this one, with its
// dependencies, ready for its server to run. Worktrees live under .gate/ in the repository (ignored
// by git) and are kept for the next gate run of the same commit. node_modules is this checkout's,
// linked, when the two package-lock.json files are identical; otherwise `npm ci` installs the base's
// own (once).

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Progress } from "../../core/progress.ts";
import { UsageError } from "../../errors.ts";

export const REPO_ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");

export interface Commit {
  sha: string;
  subject: string;
  /** Committer date, ISO 8601. */
  date: string;
}

export interface BaseCheckout extends Commit {
  /** The worktree's folder. */
  dir: string;
  /** How its dependencies were had: linked to this checkout's, or installed with npm ci. */
  dependencies: "linked" | "installed";
}

function git(args: string[], cwd = REPO_ROOT): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.error) throw new UsageError(`git is needed for the gate's base commit: ${r.error.message}`);
  if (r.status !== 0) throw new GitError((r.stderr || r.stdout).trim());
  return r.stdout.trim();
}

class GitError extends Error {}

/** A ref (branch, tag, HEAD~1, a commit id) as a commit, or a usage error that says what to fetch. */
export function resolveCommit(ref: string): Commit {
  let sha: string;
  try {
    sha = git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const shallow = (() => {
      try {
        return git(["rev-parse", "--is-shallow-repository"]) === "true";
      } catch {
        return false;
      }
    })();
    throw new UsageError(
      `--base ${ref}: no such commit in this clone` +
        (shallow
          ? " (it is a shallow clone: fetch the history, e.g. git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
          : "; fetch it first (git fetch origin REF), or name a branch, tag or commit that is here"),
    );
  }
  const [subject = "", date = ""] = git(["show", "-s", "--format=%s%n%cI", sha]).split("\n");
  return { sha, subject, date };
}

/** The head: this checkout's HEAD, and whether its work tree has uncommitted changes to tracked files. */
export function headCommit(): Commit & { dirty: boolean } {
  const head = resolveCommit("HEAD");
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]).length > 0;
  return { ...head, dirty };
}

const READY = ".lpb-gate-ready";

/** The base commit checked out with its dependencies, reusing an earlier checkout of it. */
export function checkoutBase(commit: Commit, progress: Progress): BaseCheckout {
  const dir = join(REPO_ROOT, ".gate", `base-${commit.sha.slice(0, 12)}`);
  const headLock = join(REPO_ROOT, "package-lock.json");
  const sameLock = () =>
    existsSync(join(dir, "package-lock.json")) &&
    readFileSync(join(dir, "package-lock.json")).equals(readFileSync(headLock));
  if (existsSync(join(dir, READY))) {
    return { ...commit, dir, dependencies: sameLock() ? "linked" : "installed" };
  }
  // A checkout left half-made (a run cut short) is made again.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  git(["worktree", "prune"]);
  mkdirSync(join(REPO_ROOT, ".gate"), { recursive: true });
  progress.line(`gate: checking out the base ${commit.sha.slice(0, 12)} in ${dir}`);
  git(["worktree", "add", "--detach", "--force", dir, commit.sha]);
  if (!existsSync(join(dir, "server", "main.ts"))) {
    throw new UsageError(
      `the base commit ${commit.sha.slice(0, 12)} has no server/main.ts: it predates the reference server; name a later --base`,
    );
  }
  let dependencies: BaseCheckout["dependencies"];
  if (sameLock()) {
    symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    dependencies = "linked";
  } else {
    progress.line(`gate: the base's package-lock.json differs from this one: npm ci in ${dir}`);
    try {
      execFileSync("npm", ["ci", "--no-audit", "--no-fund"], {
        cwd: dir,
        stdio: ["ignore", "ignore", "inherit"],
      });
    } catch (error) {
      throw new UsageError(
        `npm ci for the base commit ${commit.sha.slice(0, 12)} failed in ${dir}: ${(error as Error).message}`,
      );
    }
    dependencies = "installed";
  }
  writeFileSync(join(dir, READY), `${commit.sha}\n`);
  return { ...commit, dir, dependencies };
}

/** "3 days", "5 hours": how old a commit is, for the gate's header. */
export function age(dateIso: string, now = Date.now()): string {
  const s = Math.max(0, (now - Date.parse(dateIso)) / 1000);
  const unit = (n: number, what: string) => `${Math.floor(n)} ${what}${Math.floor(n) === 1 ? "" : "s"}`;
  if (s < 3600) return unit(s / 60, "minute");
  if (s < 86_400) return unit(s / 3600, "hour");
  return unit(s / 86_400, "day");
}
