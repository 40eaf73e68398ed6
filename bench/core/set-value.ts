// The value a set carries: its scheduled send time in hrtime nanoseconds (CLOCK_MONOTONIC, shared by
// every process on the host), so any worker computes latency = arrival − scheduled send without
// coordination, and a late send shows as latency (coordinated-omission safe). A stream's value also
// carries its message number on its key, so a waiter knows what it missed, saw twice or out of order.

const PREFIX = "lpb:";

export function formatSetValue(scheduledNs: bigint, seq?: number): string {
  return seq === undefined ? `${PREFIX}${scheduledNs}` : `${PREFIX}${scheduledNs}:${seq}`;
}

export interface SetValue {
  scheduledNs: bigint;
  /** Message number on its key (stream), else undefined. */
  seq: number | undefined;
}

/** The parts of a value, or undefined for a value this harness did not send. */
export function parseSetValue(value: string): SetValue | undefined {
  const m = /^lpb:(\d+)(?::(\d+))?$/.exec(value);
  if (!m) return undefined;
  return { scheduledNs: BigInt(m[1] as string), seq: m[2] === undefined ? undefined : Number(m[2]) };
}

/** The key of message `seq` in fresh-key streaming (a target without a version cursor). */
export function messageKey(key: string, seq: number): string {
  return `${key}-m${seq}`;
}
