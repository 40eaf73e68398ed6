// The Redis broker's data layout and its Lua scripts. Each write is one script, so it is atomic: no
// other client sees a version given out without its value stored and published.
//
// Layout (P is the prefix, "lpb:" by default; K the protocol key):
//   P version          string  the one version counter of the whole server (INCR)
//   P {K}:h            list    the key's last --history values, oldest first, each "VERSION:VALUE"
//   P {K}:m            hash    exp: when the live value expires (ms, on the servers' clock);
//                              compacted: the version of the newest value dropped from the list
//   P notify           channel "VERSION:KEYBYTES:KEY" + VALUE, published by every /set
// {K} is a Redis Cluster hash tag: a key's list and hash live on one shard. Only the version
// counter is global (see the README, "Several hosts").
//
// Expiry is decided on the servers' clock (the exp field, compared with the `now` a server passes),
// as the in-memory broker decides it, so both behave alike under an injected clock; Redis's own
// PEXPIRE, set to the same length, only reclaims the memory.

/** Every key and the channel start with it (--redis-prefix), so several servers can share one Redis. */
export const DEFAULT_PREFIX = "lpb:";

export const SET_SCRIPT = `
local v = redis.call('INCR', KEYS[1])
local now = tonumber(ARGV[3])
local exp = redis.call('HGET', KEYS[3], 'exp')
if exp and tonumber(exp) <= now then
  redis.call('DEL', KEYS[2])
end
local n = redis.call('RPUSH', KEYS[2], v .. ':' .. ARGV[1])
local keep = tonumber(ARGV[5])
if n > keep then
  local dropped = redis.call('LINDEX', KEYS[2], n - keep - 1)
  redis.call('HSET', KEYS[3], 'compacted', string.sub(dropped, 1, string.find(dropped, ':', 1, true) - 1))
  redis.call('LTRIM', KEYS[2], n - keep, -1)
end
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[3], 'exp', now + ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PUBLISH', ARGV[6], v .. ':' .. #ARGV[4] .. ':' .. ARGV[4] .. ARGV[1])
return v
`;
/** KEYS: version, history, meta. ARGV: value, ttl ms, now ms, key, max history, channel. */
export const setArgs = (
  value: string,
  ttlMs: number,
  nowMs: number,
  key: string,
  maxHistory: number,
  channel: string,
) => [value, String(ttlMs), String(nowMs), key, String(maxHistory), channel];

/**
 * The value a /get is answered with: without a cursor (since < 0) the live value; with one, the
 * oldest kept value newer than it, and whether values between were dropped (compacted). Nothing
 * (nil) when there is no live value or nothing newer.
 */
export const READ_SCRIPT = `
local exp = redis.call('HGET', KEYS[2], 'exp')
if not exp or tonumber(exp) <= tonumber(ARGV[2]) then return false end
local last = redis.call('LINDEX', KEYS[1], -1)
if not last then return false end
local since = tonumber(ARGV[1])
if since < 0 then return {last, 0} end
if tonumber(string.sub(last, 1, string.find(last, ':', 1, true) - 1)) <= since then return false end
local all = redis.call('LRANGE', KEYS[1], 0, -1)
for i = 1, #all do
  local e = all[i]
  if tonumber(string.sub(e, 1, string.find(e, ':', 1, true) - 1)) > since then
    local c = tonumber(redis.call('HGET', KEYS[2], 'compacted') or '0')
    if since < c then return {e, 1} end
    return {e, 0}
  end
end
return false
`;

/**
 * /clear over one batch of meta keys (from SCAN): drop the values that expire before the cutoff
 * (ms), or all ("all"). Returns how many were dropped. The list key is the meta key with h for m.
 */
export const CLEAR_SCRIPT = `
local n = 0
for _, m in ipairs(KEYS) do
  local exp = redis.call('HGET', m, 'exp')
  if exp and (ARGV[1] == 'all' or tonumber(exp) < tonumber(ARGV[1])) then
    redis.call('DEL', m, string.sub(m, 1, -2) .. 'h')
    n = n + 1
  end
end
return n
`;

/**
 * After a reconnect: raise the version counter to at least the highest version this process has
 * seen, so versions keep growing even if Redis lost its data (restarted without persistence).
 */
export const RAISE_SCRIPT = `
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if c < floor then
  redis.call('SET', KEYS[1], floor)
  return floor
end
return c
`;

export interface Layout {
  version: string;
  channel: string;
  history(key: string): string;
  meta(key: string): string;
  /** SCAN pattern of every meta key. */
  metaPattern: string;
}

export function layout(prefix: string): Layout {
  return {
    version: `${prefix}version`,
    channel: `${prefix}notify`,
    history: (key) => `${prefix}{${key}}:h`,
    meta: (key) => `${prefix}{${key}}:m`,
    metaPattern: `${prefix}*:m`,
  };
}

/** One published notification: "VERSION:KEYBYTES:KEY" then the value, as the set script writes it. */
export function parseNotification(
  message: Buffer,
): { key: string; value: string; version: number } | undefined {
  const a = message.indexOf(58); // ':'
  const b = a < 0 ? -1 : message.indexOf(58, a + 1);
  if (b < 0) return undefined;
  const version = Number(message.toString("latin1", 0, a));
  const keyBytes = Number(message.toString("latin1", a + 1, b));
  if (!Number.isSafeInteger(version) || !Number.isSafeInteger(keyBytes)) return undefined;
  const keyEnd = b + 1 + keyBytes;
  if (keyEnd > message.length) return undefined;
  return {
    version,
    key: message.toString("utf8", b + 1, keyEnd),
    value: message.toString("utf8", keyEnd),
  };
}

/** A history entry "VERSION:VALUE". */
export function parseEntry(entry: string): { version: number; value: string } {
  const colon = entry.indexOf(":");
  return { version: Number(entry.slice(0, colon)), value: entry.slice(colon + 1) };
}
