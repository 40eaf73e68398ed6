// Sockets on this host whose local port is `port` and whose peer has closed while this side has
// not (TCP state CLOSE-WAIT): a server that never noticed a client leave. For the tests and probes
// of the server; 0 where /proc cannot be read.

import { TCP_STATE, tcpSocketInodes } from "../../bench/core/metrics/proc.ts";

export function closeWaitCount(port: number): number {
  return tcpSocketInodes(port, TCP_STATE.closeWait).length;
}
