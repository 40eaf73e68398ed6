// Which scenario types a target's protocol can run: the profile's own list where it gives one, else
// every type whose needs its requests meet (a timeout storm needs a wait with a timeout of the
// client's choosing). Coordinator-side: it reads the scenario registry (the driver workers never do).

import { SCENARIO_TYPES, type ScenarioType, scenarioModuleOf } from "../scenario.ts";
import type { Profile } from "./profile.ts";
import { profileHasTimeout } from "./profile-adapter.ts";

export function profileSupports(p: Profile): readonly ScenarioType[] {
  if (p.supports) return p.supports;
  const hasTimeout = profileHasTimeout(p);
  return SCENARIO_TYPES.filter((t) => scenarioModuleOf(t).needs !== "timeout" || hasTimeout);
}
