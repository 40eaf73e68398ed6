// The wire contract of the long-poll protocol (docs/server.md): error codes, error names, HTTP statuses,
// and the parsing of request parameters into typed values.
// Knows no fastify and no store internals: it turns a flat record of strings into typed requests,
// and a ProtocolError into a response body. One table of errors; a name is never reused.

import { isUtf8 } from "node:buffer";

/** Error codes of the original server, kept for compatibility. Timeout shares 2 with invalid input. */
export const ErrorCode = { ok: 0, unknown: 1, invalidInput: 2 } as const;

/** Every error the server can answer with: stable name → original code and HTTP status. */
export const ERRORS = {
  timeout: { code: ErrorCode.invalidInput, status: 200 }, // a normal outcome, not a failure
  invalid_input: { code: ErrorCode.invalidInput, status: 400 },
  key_too_long: { code: ErrorCode.invalidInput, status: 400 },
  value_too_large: { code: ErrorCode.invalidInput, status: 413 },
  too_large: { code: ErrorCode.invalidInput, status: 413 },
  unsupported_media_type: { code: ErrorCode.invalidInput, status: 415 },
  not_found: { code: ErrorCode.invalidInput, status: 404 },
  method_not_allowed: { code: ErrorCode.invalidInput, status: 405 },
  bad_request: { code: ErrorCode.invalidInput, status: 400 }, // malformed HTTP (Node's parser refused it)
  request_timeout: { code: ErrorCode.invalidInput, status: 408 }, // head or body not complete in time
  expectation_failed: { code: ErrorCode.invalidInput, status: 417 }, // an Expect other than 100-continue
  headers_too_large: { code: ErrorCode.invalidInput, status: 431 },
  overloaded: { code: ErrorCode.unknown, status: 503 },
  key_overloaded: { code: ErrorCode.unknown, status: 503 },
  too_many_keys: { code: ErrorCode.unknown, status: 503 },
  shutting_down: { code: ErrorCode.unknown, status: 503 },
  broker_unavailable: { code: ErrorCode.unknown, status: 503 }, // --redis: Redis cannot be reached
  internal: { code: ErrorCode.unknown, status: 500 },
} as const;

export type ErrorName = keyof typeof ERRORS;

export class ProtocolError extends Error {
  readonly errorName: ErrorName;
  readonly errorCode: number;
  readonly status: number;
  constructor(name: ErrorName, message: string) {
    super(message);
    this.errorName = name;
    this.errorCode = ERRORS[name].code;
    this.status = ERRORS[name].status;
  }
}

/** The messages of the two outcomes every waiter may get besides a value. */
export const TIMEOUT_MESSAGE = "no value was set before the timeout";
export const SHUTTING_DOWN_MESSAGE = "the server is shutting down; retry on another server";
export const BROKER_UNAVAILABLE_MESSAGE =
  "the server cannot reach its broker (Redis) now; retry later (parked waiters stay parked and catch up when it is back)";

export interface ErrorBody {
  error_code: number;
  error: ErrorName;
  message: string;
}

export function errorBody(name: ErrorName, message: string): ErrorBody {
  return { error_code: ERRORS[name].code, error: name, message };
}

/** Default values of the original server. */
export const DEFAULT_TIMEOUT_S = 3600;
export const DEFAULT_EXPIRED_S = 86400;

export interface GetRequest {
  key: string;
  /** Seconds to park, already clamped to the server's maximum. 0 means answer at once. */
  timeoutS: number;
  /** Version cursor: park until the key's version is greater than this. Undefined: original semantics. */
  since: number | undefined;
}

export interface SetRequest {
  key: string;
  value: string;
  expiredS: number;
}

export interface ClearRequest {
  /** Epoch seconds: drop values that expire before this. Undefined: drop all. */
  validBegin: number | undefined;
}

export interface ParamLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxTimeoutS: number;
}

/** A flat parameter record; the HTTP layer merges query string and body into it. */
export type Params = Record<string, unknown>;

/**
 * Decode a query string or form body: the one decoding both paths use (the front and fastify), so
 * the same bytes always name the same key. `+` is a space; a percent escape that is not valid UTF-8
 * (`%ff`, `%E2%82zz`) is refused rather than turned into U+FFFD, which made different bytes collapse
 * into one key. A repeated name keeps every value (the last one counts, as in Tornado).
 */
export function parseForm(text: string): Params {
  const params: Record<string, string | string[]> = Object.create(null);
  if (text === "") return params;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(pair.slice(eq + 1));
    const prev = params[name];
    params[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return params;
}

function decodeComponent(raw: string): string {
  const text = raw.includes("+") ? raw.replace(/\+/g, " ") : raw;
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ProtocolError(
      "invalid_input",
      `"${raw.slice(0, 64)}" has a percent escape that is not valid UTF-8; encode parameters as UTF-8`,
    );
  }
}

/**
 * A request body's bytes as text. Bytes that are not UTF-8 are refused, as percent escapes that are
 * not are (parseForm): decoding them to U+FFFD made different bytes one key.
 */
export function decodeBody(bytes: Buffer): string {
  if (!isUtf8(bytes)) {
    throw new ProtocolError(
      "invalid_input",
      "the request body is not valid UTF-8; encode parameters as UTF-8",
    );
  }
  return bytes.toString("utf8");
}

/**
 * A JSON body: one object whose members are parameters, each a string or a number (null: absent).
 * An array is refused rather than read as a repeated field (that is a form's way, and `["a","b"]`
 * silently meant "b"); a member named `__proto__` is an ordinary name, not an attack to refuse.
 */
export function parseJsonParams(text: string): Params {
  if (text.trim() === "") {
    throw new ProtocolError(
      "invalid_input",
      'the application/json body is empty; send an object, e.g. {"key":"k"}',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError("invalid_input", `the body is not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ProtocolError("invalid_input", 'a JSON body must be an object of parameters, e.g. {"key":"k"}');
  }
  const params: Params = Object.create(null);
  for (const [name, value] of Object.entries(parsed)) {
    if (value === null) continue;
    if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) {
      params[name] = value;
      continue;
    }
    const what = Array.isArray(value)
      ? "an array"
      : typeof value === "object"
        ? "an object"
        : `a ${typeof value}`;
    throw new ProtocolError("invalid_input", `parameter "${name}" must be a string or a number, not ${what}`);
  }
  return params;
}

/** Query string, then body (form or JSON) on top, as Tornado's get_argument sees them. */
export function mergeParams(query: Params, body: Params | undefined): Params {
  // The common cases (all in the body, or all in the query) need no merged copy.
  let queryEmpty = true;
  for (const _ in query) {
    queryEmpty = false;
    break;
  }
  if (queryEmpty) return body ?? query;
  if (body === undefined) return query;
  return { ...query, ...body };
}

function stringParam(params: Params, name: string): string | undefined {
  const raw = params[name];
  if (raw === undefined || raw === null) return undefined;
  // Tornado's get_argument takes the last value of a repeated form field.
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new ProtocolError("invalid_input", `parameter "${name}" must be a string or a number`);
}

function requiredKey(params: Params, limits: ParamLimits): string {
  const key = stringParam(params, "key");
  if (key === undefined || key === "") {
    throw new ProtocolError("invalid_input", 'parameter "key" is required: send key=<name>');
  }
  return withinBytes("key", key, limits.maxKeyBytes, "key_too_long", "--max-key-bytes");
}

/** A parameter no longer than its limit in UTF-8 bytes, or the named error that says which flag sets it. */
function withinBytes(name: string, text: string, limit: number, error: ErrorName, flag: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes > limit) {
    throw new ProtocolError(error, `${name} is ${bytes} bytes, the limit is ${limit} (server flag ${flag})`);
  }
  return text;
}

/** Plain decimal digits, with a fraction or not: what Number() reads as a non-negative number. */
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/**
 * The one rule for numeric parameters: absent or empty → undefined; otherwise the text must be a
 * plain non-negative decimal number (no spaces, so `%205` is refused like `%200`; no `0x1`, `1e3`
 * or `Infinity`, which Number() would read) that `valid` accepts.
 */
function numberParam(
  params: Params,
  name: string,
  what: string,
  valid: (n: number) => boolean = Number.isFinite,
): number | undefined {
  const raw = stringParam(params, name);
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!DECIMAL.test(raw) || !Number.isFinite(n) || !valid(n)) {
    throw new ProtocolError("invalid_input", `parameter "${name}" must be ${what}, got "${raw}"`);
  }
  return n;
}

/** A non-negative number of seconds (fractions allowed), or the default when absent. */
function secondsParam(params: Params, name: string, fallback: number | undefined): number | undefined {
  return numberParam(params, name, "a non-negative number") ?? fallback;
}

export function parseGet(params: Params, limits: ParamLimits): GetRequest {
  const key = requiredKey(params, limits);
  const timeout = secondsParam(params, "timeout", DEFAULT_TIMEOUT_S) ?? DEFAULT_TIMEOUT_S;
  const since = numberParam(params, "since", "a non-negative integer version", Number.isSafeInteger);
  return { key, timeoutS: Math.min(timeout, limits.maxTimeoutS), since };
}

export function parseSet(params: Params, limits: ParamLimits): SetRequest {
  const key = requiredKey(params, limits);
  const value = stringParam(params, "value");
  if (value === undefined || value === "") {
    throw new ProtocolError("invalid_input", 'parameter "value" is required and must not be empty');
  }
  withinBytes("value", value, limits.maxValueBytes, "value_too_large", "--max-value-bytes");
  const expiredS = secondsParam(params, "expired", DEFAULT_EXPIRED_S) ?? DEFAULT_EXPIRED_S;
  return { key, value, expiredS };
}

export function parseClear(params: Params): ClearRequest {
  return { validBegin: secondsParam(params, "valid_begin", undefined) };
}
