// The peer servers the harness starts itself, beside the reference: the original Tornado design
// (Debian python3-tornado) and nginx + nchan (Debian nginx-light, libnginx-mod-nchan). Each is a
// spawned process with a known pid, so its RSS and CPU come from /proc. A peer that is not
// installed says how to install it (scripts/install-peers.sh) and is skipped.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nchanProfile, seedLongPollProfile } from "./builtin-profiles.ts";
import { freePort } from "./free-port.ts";
import { spawnTarget } from "./spawn.ts";
import type { Target } from "./target.ts";

const TORNADO_MAIN = new URL("../../../server/peers/tornado_server.py", import.meta.url).pathname;
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
    profile: seedLongPollProfile,
    ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
  });
}

export function nchanMissing(): string | undefined {
  if (!existsSync(NGINX)) return `nginx is not installed; ${INSTALL_HINT}`;
  if (!existsSync(NCHAN_MODULE))
    return `the nchan module is not installed (libnginx-mod-nchan); ${INSTALL_HINT}`;
  return undefined;
}

export interface NchanOptions {
  backlog: number;
  /** nginx worker processes; 1 (the default): no master, the one process we know does the work. */
  workers?: number;
  /** Messages through this Redis (nchan_redis_url) instead of nginx's shared memory. */
  redisUrl?: string;
}

/**
 * nginx.conf for one run: loopback only, its own pid file and temp folders, file and connection
 * limits that fit this machine (per worker). One worker runs without a master; several run under
 * one (its process group is stopped whole and its process tree sampled), each accepting on its own
 * SO_REUSEPORT socket so connections spread evenly, as the reference cluster's round-robin does.
 */
export function nchanConfig(dir: string, port: number, options: NchanOptions): string {
  const workers = options.workers ?? 1;
  const redis = options.redisUrl ? `\n      nchan_use_redis on;` : "";
  return `# written by longpoll-bench for one run
load_module ${NCHAN_MODULE};
worker_processes ${workers};
master_process ${workers > 1 ? "on" : "off"};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 19500;
events { worker_connections 19000; }
http {
  access_log off;${options.redisUrl ? `\n  nchan_redis_url "${options.redisUrl}";` : ""}
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} backlog=${options.backlog}${workers > 1 ? " reuseport" : ""};
    location ~ ^/sub/(.+)$ {
      # the same channel over every transport: a request's headers choose (Accept:
      # text/event-stream: EventSource; Upgrade: websocket: WebSocket; else long-poll)
      nchan_subscriber longpoll eventsource websocket;
      nchan_channel_id $1;
      # a new subscriber waits for the next message, as a seed-protocol waiter does
      nchan_subscriber_first_message newest;
      nchan_subscriber_timeout 3600s;${redis}
    }
    location ~ ^/pub/(.+)$ {
      nchan_publisher;
      nchan_channel_id $1;${redis}
    }
    location = /nchan_status { nchan_stub_status; }
    location = /healthz { return 200 '{"error_code":0}'; }
  }
}
`;
}

export async function startNchan(options: NchanOptions & { name?: string }): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "lpb-nchan-"));
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), nchanConfig(dir, port, options));
  const target = await spawnTarget({
    name: options.name ?? "nchan",
    group: (options.workers ?? 1) > 1,
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
