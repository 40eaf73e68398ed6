// Every scenario type, one line each: what the scenario schema, the metric catalog, the console's
// and the report's tables, the ETA, the preflight and the run take each type's part from. A new type
// is a folder beside these (schema.ts, runner.ts, index.ts: module.ts says what it holds) and a line here.

import { burst } from "./burst/index.ts";
import { churn } from "./churn/index.ts";
import { memorySweep } from "./memory-sweep/index.ts";
import { setThroughput } from "./set-throughput/index.ts";
import { stream } from "./stream/index.ts";
import { timeoutStorm } from "./timeout-storm/index.ts";

export const SCENARIO_TYPE_MODULES = [
  burst,
  stream,
  timeoutStorm,
  churn,
  setThroughput,
  memorySweep,
] as const;
