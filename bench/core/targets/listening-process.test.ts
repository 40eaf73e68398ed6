import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { test } from "node:test";
import { findListeningProcess, listeningInodes } from "./listening-process.ts";

test("the process listening on a loopback port is found by its socket; the harness's own is refused", async (t) => {
  // A server in a child process, as one started by hand would be.
  const child = spawn(
    process.execPath,
    ["-e", "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  t.after(() => child.kill());
  const port = await new Promise<number>((resolve) =>
    child.stdout.once("data", (c: Buffer) => resolve(Number(String(c).trim()))),
  );
  assert.ok(listeningInodes(port).size >= 1);
  const found = findListeningProcess(port);
  assert.deepEqual(found, { pid: child.pid, command: "node" });

  // A port served by this very process (the test's): its figures would be the harness's own.
  const own = createServer();
  await new Promise<void>((resolve) => own.listen(0, "127.0.0.1", resolve));
  const ownPort = (own.address() as { port: number }).port;
  assert.match(
    (findListeningProcess(ownPort) as { reason: string }).reason,
    /harness's own process or an ancestor/,
  );

  // Nothing listens: the reason says so.
  await new Promise((resolve) => own.close(resolve));
  assert.match((findListeningProcess(ownPort) as { reason: string }).reason, /no socket listens on port/);
});
