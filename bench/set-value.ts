// The value a set carries: its scheduled send time in hrtime nanoseconds (CLOCK_MONOTONIC, shared by
// every process on the host), so any worker computes latency = arrival − scheduled send without
// coordination, and a late send shows as latency (coordinated-omission safe).

const PREFIX = "lpb:";

export function formatSetValue(scheduledNs: bigint): string {
  return `${PREFIX}${scheduledNs}`;
}

/** The scheduled send time, or undefined for a value this harness did not send. */
export function parseSetValue(value: string): bigint | undefined {
  if (!value.startsWith(PREFIX)) return undefined;
  const digits = value.slice(PREFIX.length);
  return /^\d+$/.test(digits) ? BigInt(digits) : undefined;
}
