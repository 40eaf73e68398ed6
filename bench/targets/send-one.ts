// One control request to a target (a probe, a seeding set), built by its protocol adapter and sent
// with undici. Not for load: the setter and the waiter fleet have their own paths.

import { request } from "undici";
import type { ControlRequest } from "./adapter.ts";
import type { Target } from "./target.ts";

export async function sendOne(
  target: Target,
  req: ControlRequest,
): Promise<{ status: number; body: string }> {
  const res = await request(new URL(req.path, target.url), {
    method: req.method,
    ...(req.body === "" ? {} : { body: req.body, headers: { "content-type": req.contentType } }),
  });
  return { status: res.statusCode, body: await res.body.text() };
}
