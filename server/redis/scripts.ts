// The Redis broker's data layout and its Lua scripts. Each write is one script, so it is atomic: no
// other client sees a version given out without its value stored and published.
//
// Layout (P is the prefix, "lpb:" by default; K the protocol key):
//   P version          string  the one version counter of the whole server (INCR)
//   P {K}:h            list    the key's last --history values, oldest first, each "VERSION:VALUE"
//   P {K}:m            hash    exp: when the live value expires (ms, on the servers' clock);
//                              compacted: the version of the newest value dropped from the list
//   P notify           channel: one message per batch of /sets (parseNotifications)
// {K} is a Redis Cluster hash tag: a key's list and hash live on one shard. Only the version
// counter is global (docs/scale-out.md, "Several hosts, on paper").
//
// Expiry is decided on the servers' clock (the exp field, compared with the `now` a server passes),
// as the in-memory broker decides it, so both behave alike under an injected clock; Redis's own
// PEXPIRE, set to the same length, only reclaims the memory.

/** Every key and the channel start with it (--redis-prefix), so several servers can share one Redis. */
export const DEFAULT_PREFIX = "lpb:";

// Batching: a process sends every /set, and every /get's read, that arrived in one turn of its event
// loop as ONE script call (the sets in order; a key and cursor read once however many waiters share
// them), and a batch of sets is ONE published message. Why: each command sent alone costs the
// process far more CPU in node-redis than its share of a batch; and since arrivals at 10,000 a second
// mostly come one per turn, reads wait 1 ms to travel together (redis-broker.ts, READ_WINDOW_MS).
// The figures: docs/perf/2026-11-28-design-figures.md, "Redis batching".

/**
 * Store a batch of values: versions from one INCRBY of the counter (the batch's sets in order), then
 * per distinct key of the batch one pass: drop an expired list, RPUSH the key's new entries at once,
 * trim to --history noting the compacted version, set the expiry; then publish the whole batch as one
 * message. Returns the versions, in order.
 *
 * Why per key: a set alone made ~9 Redis calls inside the script, and Redis's time per /set was as
 * much as fastify's (docs/perf/2026-11-28-design-figures.md, "The set script"). A key set several
 * times in a batch (a hot key) now costs its calls once. The outcome is the one of the sets applied
 * one by one: a set with ttl 0 expires at once, so the next one of its key starts a new list; the
 * exp left is the last set's; the compacted version is the newest dropped.
 *
 * KEYS: version, then per distinct key its list and hash. ARGV: now ms, max history, channel, the
 * number of distinct keys D, their D names, then per set its key's index (1..D), value and ttl ms.
 */
export const SET_SCRIPT = `
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local d = tonumber(ARGV[4])
local first = 5 + d
local n = (#ARGV - first + 1) / 3
local last = redis.call('INCRBY', KEYS[1], n)
local versions = {}
local parts = {}
local pending = {}
local reset = {}
local ttls = {}
for i = 1, n do
  local k = tonumber(ARGV[first + 3 * (i - 1)])
  local value = ARGV[first + 3 * (i - 1) + 1]
  local ttl = tonumber(ARGV[first + 3 * (i - 1) + 2])
  local v = last - n + i
  local p = pending[k]
  if p == nil then
    p = {}
    pending[k] = p
  elseif ttls[k] <= 0 then
    p = {} -- the key's previous set of this batch expired at once: its list starts again
    pending[k] = p
    reset[k] = true
  end
  p[#p + 1] = v .. ':' .. value
  ttls[k] = ttl
  versions[i] = v
  local key = ARGV[4 + k]
  parts[i] = v .. ':' .. #key .. ':' .. #value .. ':' .. key .. value
end
for k = 1, d do
  local h = KEYS[2 * k]
  local m = KEYS[2 * k + 1]
  if reset[k] then
    redis.call('DEL', h, m) -- as the ttl-0 set's own PEXPIRE 0 would have removed both
  else
    local exp = redis.call('HGET', m, 'exp')
    if exp and tonumber(exp) <= now then
      redis.call('DEL', h)
    end
  end
  local p = pending[k]
  local count = 0
  for at = 1, #p, 1000 do -- unpack() is bounded by Lua's stack: a hot key's sets go 1,000 at a time
    count = redis.call('RPUSH', h, unpack(p, at, math.min(at + 999, #p)))
  end
  local ttl = ttls[k]
  if count > keep then
    local dropped = redis.call('LINDEX', h, count - keep - 1)
    redis.call('LTRIM', h, count - keep, -1)
    redis.call('HSET', m, 'exp', now + ttl, 'compacted', string.sub(dropped, 1, string.find(dropped, ':', 1, true) - 1))
  else
    redis.call('HSET', m, 'exp', now + ttl)
  end
  redis.call('PEXPIRE', h, ttl)
  redis.call('PEXPIRE', m, ttl)
end
redis.call('PUBLISH', ARGV[3], table.concat(parts))
return versions
`;

export interface SetItem {
  key: string;
  value: string;
  ttlMs: number;
}

/** The keys and arguments of SET_SCRIPT for a batch (its distinct keys named once). */
export function setCall(keys: Layout, items: readonly SetItem[], nowMs: number, maxHistory: number) {
  const index = new Map<string, number>();
  const k = [keys.version];
  const names: string[] = [];
  const perSet: string[] = [];
  for (const item of items) {
    let at = index.get(item.key);
    if (at === undefined) {
      at = index.size + 1;
      index.set(item.key, at);
      names.push(item.key);
      k.push(keys.history(item.key), keys.meta(item.key));
    }
    perSet.push(String(at), item.value, String(item.ttlMs));
  }
  return {
    keys: k,
    args: [String(nowMs), String(maxHistory), keys.channel, String(names.length), ...names, ...perSet],
  };
}

/**
 * For each (key, cursor) of a batch: without a cursor (since < 0) the live value; with one, the
 * oldest kept value newer than it and whether values between were dropped (compacted); false when
 * there is no live value or nothing newer. KEYS: per read its list and hash. ARGV: now ms, then
 * per read its cursor.
 */
export const READ_SCRIPT = `
local now = tonumber(ARGV[1])
local function read(h, m, since)
  local exp = redis.call('HGET', m, 'exp')
  if not exp or tonumber(exp) <= now then return false end
  local last = redis.call('LINDEX', h, -1)
  if not last then return false end
  if since < 0 then return {last, 0} end
  if tonumber(string.sub(last, 1, string.find(last, ':', 1, true) - 1)) <= since then return false end
  local all = redis.call('LRANGE', h, 0, -1)
  for i = 1, #all do
    local e = all[i]
    if tonumber(string.sub(e, 1, string.find(e, ':', 1, true) - 1)) > since then
      local c = tonumber(redis.call('HGET', m, 'compacted') or '0')
      if since < c then return {e, 1} end
      return {e, 0}
    end
  end
  return false
end
local out = {}
for i = 1, #KEYS / 2 do
  out[i] = read(KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[1 + i]))
end
return out
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

/**
 * One published message: the notifications of a batch of sets, each "VERSION:KEYBYTES:VALUEBYTES:"
 * then the key and the value (as SET_SCRIPT writes them). Undefined for a message not in that form.
 */
export function parseNotifications(
  message: Buffer,
): { key: string; value: string; version: number }[] | undefined {
  const out: { key: string; value: string; version: number }[] = [];
  let at = 0;
  while (at < message.length) {
    const a = message.indexOf(58, at); // ':'
    const b = a < 0 ? -1 : message.indexOf(58, a + 1);
    const c = b < 0 ? -1 : message.indexOf(58, b + 1);
    if (c < 0) return undefined;
    const version = Number(message.toString("latin1", at, a));
    const keyBytes = Number(message.toString("latin1", a + 1, b));
    const valueBytes = Number(message.toString("latin1", b + 1, c));
    if (![version, keyBytes, valueBytes].every(Number.isSafeInteger)) return undefined;
    const keyEnd = c + 1 + keyBytes;
    const end = keyEnd + valueBytes;
    if (end > message.length) return undefined;
    out.push({
      version,
      key: message.toString("utf8", c + 1, keyEnd),
      value: message.toString("utf8", keyEnd, end),
    });
    at = end;
  }
  return out;
}

/** A history entry "VERSION:VALUE". */
export function parseEntry(entry: string): { version: number; value: string } {
  const colon = entry.indexOf(":");
  return { version: Number(entry.slice(0, colon)), value: entry.slice(colon + 1) };
}
