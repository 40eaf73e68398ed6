// The `seed` protocol adapter: the original long-poll protocol (POST /get, POST /set, form bodies,
// {"error_code":0,"value":V} answers) that the reference server and the Tornado design speak.

import { SCENARIO_TYPES } from "../scenario.ts";
import { type Classified, formBody, type ProtocolAdapter, postRequest } from "./adapter.ts";

const FORM = "application/x-www-form-urlencoded";

export const seedAdapter: ProtocolAdapter = {
  name: "seed",
  supports: SCENARIO_TYPES,
  waitRequest(hostHeader, key, timeoutS, since) {
    const params: Record<string, string | number> = { key, timeout: timeoutS };
    if (since !== undefined) params.since = since;
    return postRequest(hostHeader, "/get", formBody(params), FORM);
  },
  setRequest(key, value) {
    return { method: "POST", path: "/set", body: formBody({ key, value }), contentType: FORM };
  },
  immediateGetRequest(key) {
    return { method: "POST", path: "/get", body: formBody({ key, timeout: 0 }), contentType: FORM };
  },
  classify(status, body): Classified {
    let parsed: { error_code?: unknown; value?: unknown; version?: unknown; error?: unknown };
    try {
      parsed = JSON.parse(body);
    } catch {
      return { kind: "error", reason: `HTTP ${status}, body not JSON` };
    }
    if (parsed.error_code === 0 && typeof parsed.value === "string") {
      return typeof parsed.version === "number"
        ? { kind: "value", value: parsed.value, version: parsed.version }
        : { kind: "value", value: parsed.value };
    }
    // The original answers a timeout with error_code 2 and no name; ours adds "error":"timeout".
    if (
      status === 200 &&
      parsed.error_code === 2 &&
      (parsed.error === undefined || parsed.error === "timeout")
    ) {
      return { kind: "timeout" };
    }
    return {
      kind: "error",
      reason: `HTTP ${status} ${typeof parsed.error === "string" ? parsed.error : `error_code ${String(parsed.error_code)}`}`,
    };
  },
};
