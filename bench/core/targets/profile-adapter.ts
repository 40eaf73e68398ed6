// (Imports no schema library: the driver workers load this, and only this, of the profile code.)
// A profile compiled into a protocol adapter: templates parsed once into parts, JSON pointers into
// token lists, so a request is built by joining strings and an answer is classified with one
// JSON.parse and a few property reads (the driver's cost per answer stays what it was with the
// hand-written adapters).

import type { Classified, ControlRequest, ProtocolAdapter } from "./adapter.ts";
import type { Placeholder, Profile, ProfileRequest } from "./profile.ts";

/** A literal, a placeholder (the cursor with an integer offset: {cursor+1}), or an optional group. */
export type Part = string | { ph: Placeholder; offset?: number } | { optional: Part[] };
export type Vars = Partial<Record<Placeholder, string>>;
export type Encode = (value: string) => string;

/** Parse a template into literal strings, placeholders and optional ([[...]]) groups. */
export function parseTemplate(text: string): Part[] {
  const root: Part[] = [];
  const stack: Part[][] = [root];
  let i = 0;
  let literal = "";
  const top = () => stack[stack.length - 1] as Part[];
  const flush = () => {
    if (literal) top().push(literal);
    literal = "";
  };
  while (i < text.length) {
    if (text.startsWith("[[", i)) {
      flush();
      const group: Part[] = [];
      top().push({ optional: group });
      stack.push(group);
      i += 2;
    } else if (text.startsWith("]]", i) && stack.length > 1) {
      flush();
      stack.pop();
      i += 2;
    } else {
      const m = /^\{([a-z_]+)([+-]\d{1,15})?\}/.exec(text.slice(i, i + 32));
      if (m) {
        flush();
        top().push(
          m[2] === undefined
            ? { ph: m[1] as Placeholder }
            : { ph: m[1] as Placeholder, offset: Number(m[2]) },
        );
        i += m[0].length;
      } else {
        literal += text[i];
        i++;
      }
    }
  }
  flush();
  return root;
}

export function render(parts: Part[], vars: Vars, encode: Encode): string | undefined {
  let out = "";
  for (const part of parts) {
    if (typeof part === "string") out += part;
    else if ("ph" in part) {
      let v = vars[part.ph];
      if (v === undefined) return undefined;
      if (part.offset !== undefined) {
        // {cursor+1}: the next index after the last one seen. A cursor that is not an integer has no
        // next: the part is left out, as a missing cursor is.
        if (!/^-?\d+$/.test(v)) return undefined;
        v = String(BigInt(v) + BigInt(part.offset));
      }
      out += encode(v);
    } else out += render(part.optional, vars, encode) ?? "";
  }
  return out;
}

const asIs: Encode = (v) => v;
const jsonString: Encode = (v) => JSON.stringify(v).slice(1, -1);

/** A JSON pointer as tokens (RFC 6901 unescaping). */
export function pointerTokens(p: string): string[] {
  return p === ""
    ? []
    : p
        .slice(1)
        .split("/")
        .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function resolvePointer(doc: unknown, tokens: readonly string[]): unknown {
  let node = doc;
  for (const t of tokens) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[t];
  }
  return node;
}

interface CompiledRequest {
  method: ControlRequest["method"];
  path: Part[];
  headers: [string, Part[]][];
  body: Part[] | undefined;
  contentType: string;
  encodeBody: Encode;
}

function compileRequest(r: ProfileRequest): CompiledRequest {
  const contentType = r.content_type ?? (r.body !== undefined ? "application/x-www-form-urlencoded" : "");
  const encoding =
    r.body_encoding ??
    (/json/i.test(contentType) ? "json" : /x-www-form-urlencoded/i.test(contentType) ? "form" : "raw");
  return {
    method: r.method,
    path: parseTemplate(r.path),
    headers: Object.entries(r.headers).map(([name, value]) => [name, parseTemplate(value)]),
    body: r.body === undefined ? undefined : parseTemplate(r.body),
    contentType,
    encodeBody: encoding === "form" ? encodeURIComponent : encoding === "json" ? jsonString : asIs,
  };
}

function buildControl(c: CompiledRequest, vars: Vars): ControlRequest {
  const headers: Record<string, string> = {};
  for (const [name, parts] of c.headers) {
    const v = render(parts, vars, asIs);
    if (v !== undefined) headers[name] = v;
  }
  return {
    method: c.method,
    path: render(c.path, vars, encodeURIComponent) ?? "/",
    body: c.body ? (render(c.body, vars, c.encodeBody) ?? "") : "",
    contentType: c.contentType,
    ...(c.headers.length ? { headers } : {}),
  };
}

interface Condition {
  status?: number[];
  match?: [string[], unknown][];
}

function compileCondition(c: { status?: number[]; match?: Record<string, unknown> }): Condition {
  return {
    ...(c.status ? { status: c.status } : {}),
    ...(c.match
      ? { match: Object.entries(c.match).map(([p, v]) => [pointerTokens(p), v] as [string[], unknown]) }
      : {}),
  };
}

function same(actual: unknown, expected: unknown): boolean {
  if (expected === null) return actual === undefined || actual === null;
  if (typeof expected !== "object") return actual === expected;
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** Does an answer meet a condition? `doc` is undefined for a body that is not JSON (then only status can match). */
function meets(c: Condition, status: number, doc: unknown, parsed: boolean): boolean {
  if (c.status && !c.status.includes(status)) return false;
  if (c.match) {
    if (!parsed) return false;
    for (const [tokens, expected] of c.match) {
      const v = resolvePointer(doc, tokens);
      if (Array.isArray(expected) ? !expected.some((e) => same(v, e)) : !same(v, expected)) return false;
    }
  }
  return true;
}

export function adapterFromProfile(profile: Profile): ProtocolAdapter {
  // A push-only profile has no wait: nothing asks for one (its targets run over --transports sse or
  // websocket only), and a call would be a harness bug, named as such.
  const wait = profile.wait === undefined ? undefined : compileRequest(profile.wait);
  const publish = compileRequest(profile.publish);
  const readNow = profile.read_now ? compileRequest(profile.read_now) : undefined;
  const a = profile.answer;
  const json = a.body === "json";
  const valueTokens = pointerTokens(a.value ?? "");
  const messagesTokens = a.messages === undefined ? undefined : pointerTokens(a.messages);
  const errorTokens = a.error === undefined ? undefined : pointerTokens(a.error);
  const valueIf = a.value_if ? compileCondition(a.value_if) : undefined;
  const timeouts = a.timeout.map(compileCondition);
  const cursor = profile.cursor;
  const cursorTokens = cursor.from === "body" ? pointerTokens(cursor.pointer) : undefined;
  /** Header cursor: the one response header (lower case) whose value is sent back through {cursor}. */
  const cursorHeader = cursor.from === "header" ? cursor.header.toLowerCase() : undefined;
  /** Headers cursor: [request header, lower-case response header] pairs, in order. */
  const cursorPairs =
    cursor.from === "headers"
      ? Object.entries(cursor.send).map(([req, res]) => [req, res.toLowerCase()] as const)
      : [];
  const cursorHeaders = cursorHeader ? [cursorHeader] : cursorPairs.map(([, res]) => res);
  /** A waiter's first poll, before any answer gave a cursor (body and header cursors). */
  const firstCursor = cursor.from === "body" || cursor.from === "header" ? cursor.first : undefined;

  const cursorOf = (doc: unknown, headers: Record<string, string> | undefined): string | undefined => {
    if (cursorTokens) {
      const v = resolvePointer(doc, cursorTokens);
      return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
    }
    if (cursorHeader) {
      const v = headers?.[cursorHeader];
      return v === undefined || v === "" ? undefined : v;
    }
    if (cursorPairs.length && headers) {
      const values = cursorPairs.map(([, res]) => headers[res] ?? "");
      return values.some((v) => v !== "") ? values.join("\n") : undefined;
    }
    return undefined;
  };

  const timeoutWith = (c: string | undefined): Classified =>
    c === undefined ? { kind: "timeout" } : { kind: "timeout", cursor: c };

  /** The value (or values) of a parsed 2xx answer, or undefined when it holds none. */
  const valuesIn = (doc: unknown, headers: Record<string, string> | undefined): Classified | undefined => {
    if (messagesTokens === undefined) {
      const v = resolvePointer(doc, valueTokens);
      if (typeof v !== "string") return undefined;
      const c = cursorOf(doc, headers);
      return c === undefined ? { kind: "value", value: v } : { kind: "value", value: v, cursor: c };
    }
    const list = resolvePointer(doc, messagesTokens);
    if (!Array.isArray(list)) return undefined;
    const values: string[] = [];
    for (const m of list) {
      const v = resolvePointer(m, valueTokens);
      if (typeof v === "string") values.push(v);
    }
    const [first, ...more] = values;
    if (first === undefined) return undefined;
    const c = cursorOf(doc, headers);
    return {
      kind: "value",
      value: first,
      ...(more.length ? { more } : {}),
      ...(c === undefined ? {} : { cursor: c }),
    };
  };

  return {
    name: profile.name,
    hasTimeout: profileHasTimeout(profile),
    hasCursor: cursor.from !== "none",
    cursorHeaders,
    waitRequest(hostHeader, key, timeoutS, given) {
      const cursorValue = given ?? firstCursor;
      const vars: Vars = {
        key,
        timeout_s: String(timeoutS),
        timeout_ms: String(Math.round(timeoutS * 1000)),
        ...(cursorValue !== undefined && (cursorTokens || cursorHeader) ? { cursor: cursorValue } : {}),
      };
      if (wait === undefined)
        throw new Error(
          `profile "${profile.name}" has no wait request (it only pushes): no long poll to build`,
        );
      const req = buildControl(wait, vars);
      let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${hostHeader}\r\n`;
      for (const [name, value] of Object.entries(req.headers ?? {})) head += `${name}: ${value}\r\n`;
      if (cursorValue !== undefined && cursorPairs.length) {
        const values = cursorValue.split("\n");
        cursorPairs.forEach(([name], i) => {
          if (values[i]) head += `${name}: ${values[i]}\r\n`;
        });
      }
      if (!wait.body) return `${head}\r\n`;
      return `${head}Content-Type: ${req.contentType}\r\nContent-Length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`;
    },
    setRequest: (key, value) => buildControl(publish, { key, value }),
    immediateGetRequest: (key) => (readNow ? buildControl(readNow, { key }) : undefined),
    classify(status, body, headers): Classified {
      const ok = status >= 200 && status < 300;
      if (!json) {
        // A text body: timeouts are told by status (a 204 is 2xx but holds no value).
        for (const t of timeouts)
          if (meets(t, status, undefined, false)) return timeoutWith(cursorOf(undefined, headers));
        if (!ok) return { kind: "error", reason: `HTTP ${status}` };
        const c = cursorOf(undefined, headers);
        return c === undefined ? { kind: "value", value: body } : { kind: "value", value: body, cursor: c };
      }
      let doc: unknown;
      try {
        doc = JSON.parse(body);
      } catch {
        // Not JSON: only a status condition can still say what it is.
        for (const t of timeouts) if (meets(t, status, undefined, false)) return { kind: "timeout" };
        return { kind: "error", reason: `HTTP ${status}, body not JSON` };
      }
      // The common answer first: a value (then timeouts, then an error).
      if (ok && (valueIf === undefined || meets(valueIf, status, doc, true))) {
        const value = valuesIn(doc, headers);
        if (value !== undefined) return value;
      }
      for (const t of timeouts) if (meets(t, status, doc, true)) return timeoutWith(cursorOf(doc, headers));
      const named = errorTokens ? resolvePointer(doc, errorTokens) : undefined;
      return {
        kind: "error",
        reason:
          typeof named === "string" || typeof named === "number"
            ? `HTTP ${status} ${named}`
            : `HTTP ${status}, no value in the answer`,
      };
    },
  };
}

/** Does the profile's wait carry a timeout of the client's choosing ({timeout_s} or {timeout_ms})? */
export function profileHasTimeout(p: Profile): boolean {
  if (p.wait === undefined) return false;
  const waitText = [p.wait.path, p.wait.body ?? "", ...Object.values(p.wait.headers)].join(" ");
  return /\{timeout_(s|ms)\}/.test(waitText);
}
