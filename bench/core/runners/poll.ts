// Waiting on the driver fleet: the polling interval and a deadline-bounded poll. The monotonic clock
// (hrtime, ns) is the one every process on the host shares.

import type { Fleet } from "../driver/fleet.ts";
import type { WorkerStatus } from "../driver/messages.ts";
import type { RunnerApi } from "./api.ts";

export const POLL_MS = 20;

export const nowNs = () => process.hrtime.bigint();

/**
 * Poll the fleet until `done` says so or the deadline passes (then a warning says how far it got).
 * Returns the last status.
 */
export async function pollUntil(
  api: RunnerApi,
  fleet: Fleet,
  deadlineNs: bigint,
  done: (s: WorkerStatus) => boolean,
  describe: (s: WorkerStatus) => string,
): Promise<WorkerStatus> {
  let status = await api.guard(fleet.status());
  while (!done(status)) {
    if (nowNs() > deadlineNs) {
      api.warn(`${api.scenario.name}: deadline passed with ${describe(status)}`);
      break;
    }
    api.progress.detail(describe(status));
    await api.guard(api.sleep(POLL_MS));
    status = await api.guard(fleet.status());
  }
  return status;
}
