// Runs a Lua script by its SHA1 (EVALSHA: the script's text is not sent with every call), loading
// it with EVAL when Redis does not know it yet (first use, or after Redis restarted). The command goes
// out through sendCommand, which skips client.evalSha's option parsing (about a quarter of the
// call's Node CPU: docs/perf/2026-11-28-design-figures.md, "EVALSHA").

import { createHash } from "node:crypto";
import type { RedisClientType } from "redis";

export class ScriptRunner {
  private readonly shas = new Map<string, string>();

  constructor(private readonly client: RedisClientType) {}

  async run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.shas.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script).digest("hex");
      this.shas.set(script, sha);
    }
    try {
      return await this.client.sendCommand(["EVALSHA", sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return this.client.sendCommand(["EVAL", script, String(keys.length), ...keys, ...args]);
    }
  }
}
