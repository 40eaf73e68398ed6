// One control request to a target (a seeding set, cursor detection, the probe command's checks),
// built by its protocol adapter and sent with undici. Not for load: the setter and the waiter fleet
// have their own paths.

import { request } from "undici";
import type { ControlRequest } from "./adapter.ts";
import type { Target } from "./target.ts";

export interface ControlAnswer {
  status: number;
  body: string;
  /** Response headers, lower-case names (the first value of each). */
  headers: Record<string, string>;
}

/** The request's headers, with its content type when it has a body. */
export function controlHeaders(req: ControlRequest): Record<string, string> {
  return req.body === "" ? { ...req.headers } : { "content-type": req.contentType, ...req.headers };
}

export async function sendOne(target: Pick<Target, "url">, req: ControlRequest): Promise<ControlAnswer> {
  const res = await request(new URL(req.path, target.url), {
    method: req.method,
    headers: controlHeaders(req),
    ...(req.body === "" ? {} : { body: req.body }),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (typeof value === "string") headers[name] = value;
    else if (Array.isArray(value) && value[0] !== undefined) headers[name] = value[0];
  }
  return { status: res.statusCode, body: await res.body.text(), headers };
}
