// A small burst scenario written to a file, for tests that drive the CLIs end to end; `body`
// overrides or adds fields (a bad field makes a bad file on purpose).

import { writeFileSync } from "node:fs";
import { join } from "node:path";

export function scenarioFile(dir: string, name: string, body: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      description: "test scenario",
      type: "burst",
      waiters: 100,
      keys: 1,
      arrival: { type: "uniform", window_ms: 200 },
      sets: { count: 1 },
      ...body,
    }),
  );
  return file;
}
