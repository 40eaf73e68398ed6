// The transports a waiter can hear of values over (no imports: the scenario schema, the CLI and the
// driver workers all read this list).

/** How waiters hear of a value: a long poll (a request per value), or one pushed connection per key. */
export const TRANSPORTS = ["long-poll", "sse", "websocket"] as const;
export type Transport = (typeof TRANSPORTS)[number];
export type PushTransport = Exclude<Transport, "long-poll">;
