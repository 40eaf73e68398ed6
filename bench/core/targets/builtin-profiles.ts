// The built-in protocols, loaded from their profile files (profiles/*.json) exactly as a user's
// profile is: no second, hard-coded path for them.

import { loadProfile } from "./profile.ts";
import { adapterFromProfile } from "./profile-adapter.ts";

export const seedProfile = loadProfile("seed");
export const nchanProfile = loadProfile("nchan");
/** The seed protocol compiled (this project's protocol: the reference server, node-http, tornado). */
export const seedAdapter = adapterFromProfile(seedProfile);
