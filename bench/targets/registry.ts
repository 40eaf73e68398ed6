// Protocol adapters by name, for worker processes that receive only the name.
import type { ProtocolAdapter } from "./adapter.ts";
import { nchanAdapter } from "./nchan.ts";
import { seedAdapter } from "./seed.ts";

const ADAPTERS: Record<string, ProtocolAdapter> = { seed: seedAdapter, nchan: nchanAdapter };

export function adapterByName(name: string): ProtocolAdapter {
  const adapter = ADAPTERS[name];
  if (!adapter)
    throw new Error(`unknown protocol adapter "${name}"; known: ${Object.keys(ADAPTERS).join(", ")}`);
  return adapter;
}
