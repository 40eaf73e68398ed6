// The built-in protocols, loaded from their profile files (profiles/*.json) exactly as a user's
// profile is: no second, hard-coded path for them.

import { loadProfile } from "./profile.ts";
import { adapterFromProfile } from "./profile-adapter.ts";

export const seedProfile = loadProfile("seed");
/**
 * The seed protocol without its push transports: the peers that speak it (node-http, Tornado) serve
 * long polls only, so --transports sse skips them with a note instead of failing on a 404.
 */
export const seedLongPollProfile: typeof seedProfile = {
  ...seedProfile,
  name: "seed-long-poll",
  transports: undefined,
};
export const nchanProfile = loadProfile("nchan");
/** The seed protocol compiled (this project's protocol: the reference server, node-http, tornado). */
export const seedAdapter = adapterFromProfile(seedProfile);
