// A target profile: a long-poll protocol described as data (JSON), so a user's own server can be
// measured with no TypeScript to write. Validated by a zod schema as scenario files are (every
// problem at once, with its JSON path); the code takes its types from the schema. The built-in
// protocols (profiles/seed.json, profiles/nchan.json) are profiles too, loaded the same way.
//
// Templates (paths, header values, bodies) hold placeholders: {key}, {value}, {timeout_s},
// {timeout_ms}, {cursor}. A part in [[...]] is left out when a placeholder in it has no value (the
// first poll has no cursor). In a path a value is percent-encoded; in a body it is encoded for the
// body's kind (form: percent-encoded; json: escaped for a JSON string; raw: as is).

import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { UsageError } from "../../errors.ts";
import { parseJsonText } from "../json-text.ts";
import { SCENARIO_TYPES, type ScenarioType } from "../scenario.ts";

export const PROFILE_DIR = new URL("../../../profiles/", import.meta.url).pathname;

const PLACEHOLDERS = ["key", "value", "timeout_s", "timeout_ms", "cursor"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** A JSON pointer (RFC 6901): "" is the whole document, else it starts with "/". */
const Pointer = z.string().regex(/^(\/.*)?$/, 'a JSON pointer: "" or one that starts with "/"');
/** A Prometheus metric: its name, and optionally the labels of the one sample meant. */
const PrometheusMetric = z
  .string()
  .regex(
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{\s*[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\s*,?\s*\})?$/,
    'a Prometheus metric: a name, optionally with labels, like process_cpu_seconds_total or waiters{kind="get"}',
  );

/** Anything that looks like a placeholder: {name} or {name<something>} (a JSON object's "{" is not). */
const PLACEHOLDER_LIKE = /\{([a-z_][a-z0-9_]*)([^{}"\s]*)\}/g;

const Template = (allowed: readonly Placeholder[]) =>
  z.string().superRefine((text, ctx) => {
    for (const m of text.matchAll(PLACEHOLDER_LIKE)) {
      const name = m[1] as Placeholder;
      const rest = m[2] as string;
      if (!allowed.includes(name)) {
        ctx.addIssue({
          code: "custom",
          message: `unknown placeholder {${name}${rest}} here; allowed: ${allowed.map((p) => `{${p}}`).join(", ")}${allowed.includes("cursor") ? ", {cursor+N}, {cursor-N}" : ""}`,
        });
      } else if (rest !== "" && !(name === "cursor" && /^[+-]\d{1,15}$/.test(rest))) {
        ctx.addIssue({
          code: "custom",
          message: `{${name}${rest}} is not a placeholder: the only transform is an integer offset of the cursor, {cursor+N} or {cursor-N}`,
        });
      }
    }
    if ((text.match(/\[\[/g) ?? []).length !== (text.match(/\]\]/g) ?? []).length) {
      ctx.addIssue({ code: "custom", message: "unbalanced [[ ]] (an optional part)" });
    }
  });

const RequestSchema = (allowed: readonly Placeholder[]) =>
  z
    .object({
      method: z.enum(["GET", "POST", "PUT", "PATCH"]).default("GET"),
      /** Path and query, e.g. "/poll?channel={key}&timeout={timeout_s}". */
      path: Template(allowed).refine((p) => p.startsWith("/"), "a path starts with /"),
      headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, "a header name"), Template(allowed)).default({}),
      body: Template(allowed).optional(),
      /** Content-Type of the body (default: form for POST/PUT bodies). */
      content_type: z.string().optional(),
      /** How values are encoded into the body (default: from the content type). */
      body_encoding: z.enum(["form", "json", "raw"]).optional(),
    })
    .strict();

/** A condition on an answer: its status is one of `status`, and each pointer's value is one of the given (null: absent). */
const ConditionSchema = z
  .object({
    status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    match: z.record(Pointer, z.union([z.json(), z.array(z.json())])).optional(),
  })
  .strict()
  .refine((c) => c.status !== undefined || c.match !== undefined, "give status, match or both");

/**
 * The cursor of a waiter's first poll, before any answer gave one (e.g. "0" for a server that answers
 * `index=0` with everything after the start, and waits on a new key); absent: the first poll has none.
 */
const FirstCursor = z.string().min(1).max(200).optional();

const CursorSchema = z.discriminatedUnion("from", [
  /** No cursor: the stream scenario uses a fresh key per message. */
  z.object({ from: z.literal("none") }).strict(),
  /** From the body at a JSON pointer (e.g. "/version"); sent back through {cursor} or {cursor+N}. */
  z.object({ from: z.literal("body"), pointer: Pointer, first: FirstCursor }).strict(),
  /**
   * From one response header (an index header, e.g. "X-Index"); sent back through {cursor} or
   * {cursor+N} wherever the wait request puts it: path, query, body or a header.
   */
  z
    .object({
      from: z.literal("header"),
      header: z.string().regex(/^[A-Za-z0-9-]+$/, "a header name"),
      first: FirstCursor,
    })
    .strict(),
  /**
   * From response headers, sent back as request headers (nchan: Last-Modified → If-Modified-Since,
   * Etag → If-None-Match). Keys: the request header to send; values: the response header it copies.
   */
  z
    .object({
      from: z.literal("headers"),
      send: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string().regex(/^[A-Za-z0-9-]+$/)),
    })
    .strict()
    .refine((c) => Object.keys(c.send).length > 0, {
      message: "name at least one header pair",
      path: ["send"],
    }),
]);

/** How one pushed message (an SSE event's data, a WebSocket text message) holds its value. */
const PushMessageSchema = z
  .object({
    /** text: the data itself is the value; json: parse it and read the pointers. */
    body: z.enum(["json", "text"]).default("text"),
    /** Where the value is (json only). */
    value: Pointer.optional(),
    /** Where the message's cursor is (json only; an SSE stream's cursor is otherwise its id: lines). */
    cursor: Pointer.optional(),
    /** Where an error name is (json only): a message with one is counted as an error, not a value. */
    error: Pointer.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.body === "json" && m.value === undefined)
      ctx.addIssue({ code: "custom", path: ["value"], message: "a json message needs a value pointer" });
    if (m.body === "text" && (m.value ?? m.cursor ?? m.error) !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["body"],
        message: "value, cursor and error pointers need body: json",
      });
  });

const PushPath = Template(["key", "cursor"]).refine((p) => p.startsWith("/"), "a path starts with /");
const PushHeaders = z.record(
  z.string().regex(/^[A-Za-z0-9-]+$/, "a header name"),
  Template(["key", "cursor"]),
);

/**
 * The push transports a server offers beside its long poll (docs/transports.md): a subscriber opens
 * one connection per key and receives every value on it. Long poll is always the profile's wait.
 */
const TransportsSchema = z
  .object({
    /** Server-Sent Events: GET path with Accept: text/event-stream. */
    sse: z
      .object({
        path: PushPath,
        headers: PushHeaders.default({}),
        /**
         * How a resumed stream says where it left off: the Last-Event-ID header with the last id:
         * seen (the format's own way, default), or {cursor} in the path.
         */
        resume: z.enum(["last-event-id", "path"]).default("last-event-id"),
        /** Event types that carry values (default: unnamed events, which are "message"). */
        events: z.array(z.string().min(1)).min(1).default(["message"]),
        data: PushMessageSchema.default({ body: "text" }),
      })
      .strict()
      .refine((s) => s.resume !== "path" || s.path.includes("{cursor"), {
        message: 'resume "path" sends the cursor back through {cursor} in the path: put it there',
        path: ["path"],
      })
      .optional(),
    /** WebSocket: GET path upgraded; then, where given, one text message that subscribes. */
    websocket: z
      .object({
        path: PushPath,
        headers: PushHeaders.default({}),
        subprotocol: z
          .string()
          .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "a token")
          .optional(),
        /** A text message sent once the socket is open (e.g. a subscribe with {key} and {cursor}). */
        subscribe: Template(["key", "cursor"]).optional(),
        message: PushMessageSchema.default({ body: "text" }),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, . _ -"),
    description: z.string().default(""),
    /** The waiting request (a long poll); absent for a server that only pushes (see `transports`). */
    wait: RequestSchema(["key", "timeout_s", "timeout_ms", "cursor"]).optional(),
    /** The publish request: its value is the harness's own string and must come back in the answer. */
    publish: RequestSchema(["key", "value"]),
    /** A read that answers at once with a present value (set-throughput's /get, cursor detection); optional. */
    read_now: RequestSchema(["key"]).optional(),
    answer: z
      .object({
        /** json: parse the body; text: the body itself is the value. */
        body: z.enum(["json", "text"]),
        /** Where the list of messages is, for an answer that may carry several (a JSON array); absent: one message. */
        messages: Pointer.optional(),
        /** Where the value is (in each message, or in the body); json bodies only. */
        value: Pointer.optional(),
        /** When a 2xx answer holds a value; default: any 2xx whose value is a string. */
        value_if: ConditionSchema.optional(),
        /** How a timeout looks (204, 304, 408, or a JSON field). */
        timeout: z.array(ConditionSchema).default([]),
        /** A JSON pointer to an error name or message, for error reasons. */
        error: Pointer.optional(),
      })
      .strict()
      .superRefine((a, ctx) => {
        if (a.body === "json" && a.value === undefined)
          ctx.addIssue({ code: "custom", path: ["value"], message: "a json answer needs a value pointer" });
        if (a.body === "text" && (a.messages !== undefined || a.value !== undefined))
          ctx.addIssue({
            code: "custom",
            path: ["body"],
            message: "messages and value pointers need body: json",
          });
      })
      // A server that only pushes has no long-poll answers to read.
      .default({ body: "text", timeout: [] }),
    cursor: CursorSchema.default({ from: "none" }),
    /** A page with the parked count (exact readiness barrier); without it the barrier is approximate. */
    stats: z
      .object({
        path: z.string().startsWith("/"),
        /** The same page after a garbage collection, where the server offers one. */
        gc_path: z.string().startsWith("/").optional(),
        /**
         * json: figures by JSON pointer; text: by regular expression (group 1, multiline: ^ and $
         * match at each line); prometheus: by metric name, with labels where needed
         * (`waiters{kind="get"}`), counters in seconds.
         */
        format: z.enum(["json", "text", "prometheus"]).default("json"),
        parked: Pointer.optional(),
        /** text pages: a regular expression whose group 1 is the parked count. */
        parked_regex: z.string().optional(),
        rss_bytes: Pointer.optional(),
        heap_bytes: Pointer.optional(),
        cpu_user_us: Pointer.optional(),
        cpu_system_us: Pointer.optional(),
        /** text pages: regular expressions whose group 1 is RSS bytes, heap bytes, CPU seconds (user + system). */
        rss_regex: z.string().optional(),
        heap_regex: z.string().optional(),
        cpu_seconds_regex: z.string().optional(),
        /** prometheus pages: the metric of each figure (name, optionally {label="value",...}). */
        parked_metric: PrometheusMetric.optional(),
        rss_metric: PrometheusMetric.optional(),
        heap_metric: PrometheusMetric.optional(),
        cpu_seconds_metric: PrometheusMetric.optional(),
        /**
         * prometheus-process: the standard process metrics most clients export, for any figure not
         * named: process_resident_memory_bytes, process_cpu_seconds_total, and the heap of Node
         * (nodejs_heap_size_used_bytes) or Go (go_memstats_heap_alloc_bytes), whichever is there.
         */
        preset: z.literal("prometheus-process").optional(),
      })
      .strict()
      .superRefine((s, ctx) => {
        const issue = (path: string, message: string) =>
          ctx.addIssue({ code: "custom", path: [path], message });
        if (s.format === "json" && s.parked === undefined)
          issue("parked", "a json stats page needs a parked pointer");
        if (s.format === "text" && s.parked_regex === undefined)
          issue("parked_regex", "a text stats page needs parked_regex");
        if (s.format === "prometheus" && s.parked_metric === undefined)
          issue("parked_metric", 'a prometheus stats page needs parked_metric (e.g. "longpoll_waiters")');
        if (s.preset !== undefined && s.format !== "prometheus")
          issue("preset", 'the prometheus-process preset goes with "format": "prometheus"');
        const onlyIn = (format: string, fields: (keyof typeof s)[]) => {
          for (const f of fields)
            if (s[f] !== undefined && s.format !== format)
              issue(f, `${f} is for "format": "${format}" pages; this page is ${s.format}`);
        };
        onlyIn("text", ["parked_regex", "rss_regex", "heap_regex", "cpu_seconds_regex"]);
        onlyIn("prometheus", ["parked_metric", "rss_metric", "heap_metric", "cpu_seconds_metric"]);
        onlyIn("json", ["parked", "rss_bytes", "heap_bytes", "cpu_user_us", "cpu_system_us"]);
        for (const f of ["parked_regex", "rss_regex", "heap_regex", "cpu_seconds_regex"] as const) {
          const text = s[f];
          if (text === undefined) continue;
          try {
            new RegExp(text, "m");
          } catch (error) {
            issue(f, (error as Error).message);
          }
        }
      })
      .optional(),
    /** A path any answer of which proves the server is up (liveness while attached; set warm-up). */
    health: z.string().startsWith("/").default("/"),
    /** Push transports beside the long poll (SSE, WebSocket); absent: long poll only. */
    transports: TransportsSchema.optional(),
    /** Scenario types the protocol can run (default: all its requests allow). */
    supports: z.array(z.enum(SCENARIO_TYPES as [ScenarioType, ...ScenarioType[]])).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.wait === undefined && p.transports?.sse === undefined && p.transports?.websocket === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["wait"],
        message:
          "a profile needs a wait (a long poll), a push transport (transports.sse or .websocket), or both",
      });
  });

export type Profile = z.infer<typeof ProfileSchema>;
export type ProfileRequest = NonNullable<Profile["wait"]>;

/** Problems in a profile or target file, all at once, each with its file and JSON path (exit 2). */
export class ProfileError extends UsageError {
  constructor(
    readonly problems: string[],
    what = "target profile",
  ) {
    super(`invalid ${what}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

function formatIssues(where: string, error: z.ZodError): string[] {
  return error.issues.map(
    (i) => `${where}: ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`,
  );
}

/** Validate a profile object; every problem at once, each with its path. */
export function parseProfile(where: string, raw: unknown): Profile {
  const result = ProfileSchema.safeParse(raw);
  if (!result.success) throw new ProfileError(formatIssues(where, result.error));
  return result.data;
}

export function builtinProfileNames(): string[] {
  return ["seed", "nchan"];
}

/** A profile by built-in name ("seed", "nchan") or by file path. */
export function loadProfile(nameOrPath: string, relativeTo = process.cwd()): Profile {
  const isName = /^[a-z0-9][a-z0-9._-]*$/.test(nameOrPath) && !nameOrPath.endsWith(".json");
  const file = isName
    ? `${PROFILE_DIR}${nameOrPath}.json`
    : isAbsolute(nameOrPath)
      ? nameOrPath
      : resolve(relativeTo, nameOrPath);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError(
      isName
        ? `no built-in profile "${nameOrPath}"; built in: ${builtinProfileNames().join(", ")}; or name a profile file (path ending in .json)`
        : `cannot read profile file ${file}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseJsonText(text);
  } catch (error) {
    throw new ProfileError([`${file}: not JSON: ${(error as Error).message}`]);
  }
  return parseProfile(file, raw);
}
