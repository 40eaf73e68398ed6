// The nchan protocol adapter (nginx + nchan, long-poll subscribers): subscribe with GET /sub/<key>,
// publish with POST /pub/<key>; a message body is the value itself. The harness's nginx config sets
// `nchan_subscriber_first_message newest`, so a subscriber gets the first message published after it
// subscribed, as a seed-protocol waiter does. nchan's timeouts are per location, not per request, and
// its re-poll cursor is Last-Modified/Etag, so the timeout storm and the stream are not run against it.

import type { Classified, ProtocolAdapter } from "./adapter.ts";

const path = (kind: "sub" | "pub", key: string) => `/${kind}/${encodeURIComponent(key)}`;

export const nchanAdapter: ProtocolAdapter = {
  name: "nchan",
  supports: ["burst", "churn", "set-throughput", "memory-sweep"],
  waitRequest(hostHeader, key) {
    return `GET ${path("sub", key)} HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
  },
  setRequest(key, value) {
    return { method: "POST", path: path("pub", key), body: value, contentType: "text/plain" };
  },
  immediateGetRequest(key) {
    // nchan keeps no readable value; GET on the publisher location answers the channel's info at once.
    return { method: "GET", path: path("pub", key), body: "", contentType: "text/plain" };
  },
  classify(status, body): Classified {
    if (status === 200) return { kind: "value", value: body };
    if (status === 304 || status === 408) return { kind: "timeout" };
    return { kind: "error", reason: `HTTP ${status}` };
  },
};
