// A private redis-server (Debian's, installed by scripts/install-peers.sh) that the harness starts on a
// free loopback port when a target needs one (reference-cluster, nchan-redis), samples like the
// target (its RSS and CPU count in the target's figures), and stops after. The tests use it too,
// and restart it mid-stream to check that servers survive Redis going away.
//
// It keeps an append-only file in its own temporary folder (appendfsync no: written on every event
// loop, flushed by the OS), so a restart loses nothing: a restarted Redis has its versions and
// values back, as a production Redis with persistence would. Nothing is written elsewhere.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopProcess } from "../../child-process.ts";
import { TargetError } from "../../errors.ts";
import { type ProcSample, readProcess } from "../metrics/proc.ts";
import { freePort } from "./free-port.ts";

export const REDIS_SERVER = "/usr/bin/redis-server";
const READY = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

export function redisMissing(): string | undefined {
  return existsSync(REDIS_SERVER)
    ? undefined
    : `redis-server is not installed (Debian redis-server); run: bash scripts/install-peers.sh`;
}

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = "";
  private onDied: ((why: string) => void) | undefined;
  /** Settles with a description if it exits while it should be running (not paused or stopped). */
  readonly died = new Promise<string>((resolve) => {
    this.onDied = resolve;
  });

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Start one on a free loopback port; resolves when it accepts connections. */
  static async start(): Promise<RedisServer> {
    const missing = redisMissing();
    if (missing) throw new TargetError(missing);
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), "lpb-redis-")));
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Its RSS and CPU now (undefined while it is stopped). */
  sample(): ProcSample | undefined {
    return this.child?.pid === undefined ? undefined : readProcess(this.child.pid);
  }

  /** Stop it (SIGTERM: it flushes its append-only file) and keep its folder for a restart. */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopProcess(child, 5_000);
  }

  /** Start it again on the same port, with the data it had. */
  resume(): Promise<void> {
    return this.launch();
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private launch(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "no",
      "--daemonize",
      "no",
      "--loglevel",
      "notice",
    ];
    // setpriv: if the harness dies, the kernel stops this Redis too (as spawn.ts does for targets).
    const child = existsSync("/usr/bin/setpriv")
      ? spawn("/usr/bin/setpriv", ["--pdeathsig", "TERM", "--", REDIS_SERVER, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
          detached: true, // out of the terminal's Ctrl-C, as targets are (spawn.ts)
        })
      : spawn(REDIS_SERVER, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.output = "";
    child.once("exit", (code, signal) => {
      if (this.child === child)
        this.onDied?.(
          `redis-server (pid ${child.pid}) exited (${signal ?? `code ${code}`}); its output ends:\n${this.output.slice(-1000)}`,
        );
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new TargetError(
            `redis-server was not ready within ${START_TIMEOUT_MS} ms; its output:\n${this.output.slice(-2000)}`,
          ),
        );
      }, START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        this.output = (this.output + chunk.toString("utf8")).slice(-16_000);
        if (READY.test(this.output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new TargetError(
            `redis-server exited (${signal ?? `code ${code}`}) before it was ready; its output:\n${this.output.slice(-2000)}`,
          ),
        );
      });
    });
  }
}
