// Clock offsets between machines, through Redis's clock as the common reference: each side asks
// Redis for its TIME several times, and keeps the exchange with the shortest round trip (the
// tightest bound): offset = Redis's time − the middle of the round trip, uncertainty = half the round
// trip. The offset of an agent's clock to the coordinator's is the difference of the two offsets;
// its uncertainty the sum of the two halves (plus any drift of Redis's clock in between: none that
// matters over the seconds between the two measurements).

export interface ClockOffset {
  /** Redis's time minus this clock's, ns. */
  offsetNs: bigint;
  /** Half the shortest round trip, ns: the true offset is within ± this. */
  uncertaintyNs: bigint;
}

/** Redis's TIME reply ([seconds, microseconds]) in ns. */
export const redisTimeNs = (reply: readonly string[]): bigint =>
  BigInt(reply[0] as string) * 1_000_000_000n + BigInt(reply[1] as string) * 1_000n;

/**
 * Measure this clock against Redis: `time` asks Redis for TIME, `now` reads this clock (ns).
 * Keeps the tightest of `rounds` exchanges.
 */
export async function measureOffset(
  time: () => Promise<readonly string[]>,
  now: () => bigint,
  rounds = 25,
): Promise<ClockOffset> {
  let best: ClockOffset | undefined;
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const remote = redisTimeNs(await time());
    const t1 = now();
    const half = (t1 - t0) / 2n;
    if (best === undefined || half + 1_000n < best.uncertaintyNs) {
      // + 1 µs: TIME has microsecond resolution.
      best = { offsetNs: remote - (t0 + half), uncertaintyNs: half + 1_000n };
    }
  }
  return best as ClockOffset;
}
