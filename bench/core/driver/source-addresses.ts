// Source addresses for the driver's sockets. One source/destination address pair gives at most the
// ephemeral port range (~28,000 here) of connections; beyond that the driver binds its sockets to
// further loopback addresses (127.0.0.2, 127.0.0.3, ...: all of 127.0.0.0/8 is this host's, no set-up
// needed), each holding at most PORTS_PER_SOURCE_SHARE of the range. Below that nothing is bound,
// and the kernel chooses as it always did (so the runs the CI baseline was recorded with are unchanged).
//
// Each socket gets its own address AND port, computed (socket n: address n mod A, port FIRST_PORT +
// n div A): binding an address with port 0 makes the kernel search its bind table for a free port
// on every connect, which grows costly as the range fills (docs/scale-out.md). Ports 10,000 and up
// on 127.0.0.2+ collide only with a listener on the wildcard address.

/** The share of the ephemeral range one source address is given (the rest: other sockets of the host). */
const PORTS_PER_SOURCE_SHARE = 0.85;
const MAX_SOURCES = 250;

export interface SourcePlan {
  /** Addresses to bind, dealt round-robin over the sockets; empty: the kernel's choice. */
  addresses: string[];
  /** Sockets one address may carry. */
  perAddress: number;
}

export const FIRST_PORT = 10_000;

/** The local address and port of the run's socket number n (0-based, over all workers). */
export function sourceOf(
  addresses: readonly string[],
  n: number,
): { localAddress: string; localPort: number } {
  return {
    localAddress: addresses[n % addresses.length] as string,
    localPort: FIRST_PORT + Math.floor(n / addresses.length),
  };
}

/**
 * The addresses `sockets` connections to `targetHost` need, given `ephemeralPorts` (undefined: not
 * known, nothing is bound). Throws with the fix when the target is not an IPv4 loopback address and
 * one source address is not enough.
 */
export function planSources(
  sockets: number,
  targetHost: string,
  ephemeralPorts: number | undefined,
): SourcePlan {
  if (ephemeralPorts === undefined) return { addresses: [], perAddress: Number.POSITIVE_INFINITY };
  const perAddress = Math.floor(ephemeralPorts * PORTS_PER_SOURCE_SHARE);
  if (sockets <= perAddress) return { addresses: [], perAddress };
  if (!/^127\./.test(targetHost)) {
    throw new Error(
      `${sockets} connections to ${targetHost} need more than one source address (${perAddress} ephemeral ports each), which this host has only towards 127.0.0.0/8; fix: a smaller scenario, load from several machines, or sysctl -w net.ipv4.ip_local_port_range="1024 65535"`,
    );
  }
  const count = Math.ceil(sockets / perAddress);
  if (count > MAX_SOURCES)
    throw new Error(`${sockets} connections need ${count} source addresses, over ${MAX_SOURCES}`);
  return { addresses: Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`), perAddress };
}
