// The peer servers the harness starts itself, beside the reference: the original Tornado design
// (Debian python3-tornado) and nginx + nchan (Debian nginx-light, libnginx-mod-nchan). Each is a
// spawned process with a known pid, so its RSS and CPU come from /proc. A peer that is not
// installed says how to install it (scripts/install-peers.sh) and is skipped.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nchanProfile, seedProfile } from "./builtin-profiles.ts";
import { freePort } from "./free-port.ts";
import { spawnTarget } from "./spawn.ts";
import type { Target } from "./target.ts";

const TORNADO_MAIN = new URL("../../server/peers/tornado_server.py", import.meta.url).pathname;
/** Debian's python3-tornado is installed for the system interpreter, not for pyenv or venvs. */
const SYSTEM_PYTHON = "/usr/bin/python3";
const NGINX = "/usr/sbin/nginx";
const NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";
const INSTALL_HINT = "run: bash scripts/install-peers.sh";

export function tornadoMissing(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found; ${INSTALL_HINT}`;
  if (!existsSync("/usr/lib/python3/dist-packages/tornado"))
    return `python3-tornado is not installed; ${INSTALL_HINT}`;
  return undefined;
}

export function startTornado(): Promise<Target> {
  return spawnTarget({
    name: "tornado",
    command: SYSTEM_PYTHON,
    args: [TORNADO_MAIN, "--host", "127.0.0.1", "--port", "0"],
    profile: seedProfile,
    ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
  });
}

export function nchanMissing(): string | undefined {
  if (!existsSync(NGINX)) return `nginx is not installed; ${INSTALL_HINT}`;
  if (!existsSync(NCHAN_MODULE))
    return `the nchan module is not installed (libnginx-mod-nchan); ${INSTALL_HINT}`;
  return undefined;
}

/**
 * nginx.conf for one run: loopback only, its own pid file and temp folders, one process (so the pid
 * we know is the one doing the work), file and connection limits that fit this machine.
 */
export function nchanConfig(dir: string, port: number, backlog: number): string {
  return `# written by longpoll-bench for one run
load_module ${NCHAN_MODULE};
worker_processes 1;
master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 19500;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} backlog=${backlog};
    location ~ ^/sub/(.+)$ {
      nchan_subscriber longpoll;
      nchan_channel_id $1;
      # a new subscriber waits for the next message, as a seed-protocol waiter does
      nchan_subscriber_first_message newest;
      nchan_subscriber_timeout 3600s;
    }
    location ~ ^/pub/(.+)$ {
      nchan_publisher;
      nchan_channel_id $1;
    }
    location = /nchan_status { nchan_stub_status; }
    location = /healthz { return 200 '{"error_code":0}'; }
  }
}
`;
}

export async function startNchan(options: { backlog: number }): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "lpb-nchan-"));
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), nchanConfig(dir, port, options.backlog));
  const target = await spawnTarget({
    name: "nchan",
    command: NGINX,
    args: ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", join(dir, "error.log")],
    profile: nchanProfile,
    ready: { kind: "url", url: new URL(`http://127.0.0.1:${port}/healthz`), ok2xx: false },
  });
  return {
    ...target,
    async stop() {
      await target.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
