/**
 * The Lua scripts of the Redis store. Each touches only the keys passed to it; on a cluster the
 * store passes keys of one hash slot per call (a node's keys share the slot of its `{key}` tag), so
 * every script is Cluster-safe. Loaded once per server and called by SHA1 (EVALSHA).
 */
import { createHash } from 'node:crypto';
import { VERSION_BYTES } from './entry';

export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Extends a key's expiry to `px` ms (never shortens it); `px == ''` makes it permanent. A key that
 * was just created (`fresh`) takes `px` as is.
 */
const EXTEND = `
local function extend(key, px, fresh)
  if px == '' then
    redis.call('PERSIST', key)
  else
    local ttl = redis.call('PTTL', key)
    if fresh or (ttl >= 0 and ttl < tonumber(px)) then redis.call('PEXPIRE', key, px) end
  end
end
`;

/**
 * The version of a node as `wrap` observes it before loading and checks before storing: the head of
 * its value key (`1|<createdAt>` for an entry, `0|<token>` for the tombstone an invalidation left)
 * and its generation key (bumped when a walk reached it over an edge it no longer declares).
 * `versionOf` in redis-store.ts computes the same from GETRANGE + GET.
 */
const STATE = `
local function state(value, generation)
  local head = redis.call('GETRANGE', value, 0, ${VERSION_BYTES - 1})
  if string.sub(head, 1, 2) == '1|' then head = string.match(head, '^1|[^|]*') or head end
  return head .. '#' .. (redis.call('GET', generation) or '')
end
`;

/**
 * One breadth-first level of a cascade (or of a read-only walk).
 *
 * KEYS: per node, 4 keys: value, parents (what it depends on), dependents (index), generation.
 * ARGV: mode ('i' invalidate | 'r' read), token, tombstone ttl ms, then per node: the number of
 *       parents it was reached from, and those parents.
 *
 * A valid node's value is replaced by a tombstone `0|<token>` (so a `wrap` that read the key before
 * refuses to store), and its dependents are returned. A node reached from parents that its own
 * record no longer lists was reached over a stale edge: it keeps its value, but its generation is
 * bumped, so that a `wrap` about to store a value depending on those parents refuses to. Edges stay
 * in place (a retry after a failure must still find its way down); they expire with the entries
 * that declared them.
 *
 * The reply is flat: per node, -1 (reached over a stale edge), or 2 * (number of dependents) + 1 if
 * it was live (0 if it already held a tombstone), followed by the dependents.
 */
export const VISIT = script(
  'visit',
  `
local invalidate = ARGV[1] == 'i'
local token, ttl = ARGV[2], ARGV[3]
local tombstone = '0|' .. token
local a = 4
local out = {}
for n = 1, #KEYS / 4 do
  local b = (n - 1) * 4
  local count = tonumber(ARGV[a])
  local valid = count == 0
  for f = 1, count do
    if not valid and redis.call('ZSCORE', KEYS[b + 2], ARGV[a + f]) then valid = true end
  end
  a = a + count + 1
  if valid then
    local dependents = redis.call('ZRANGE', KEYS[b + 3], 0, -1)
    local live = 1
    if invalidate then
      local old = redis.call('SET', KEYS[b + 1], tombstone, 'PX', ttl, 'GET')
      if old and string.sub(old, 1, 2) == '0|' then live = 0 end
    end
    out[#out + 1] = #dependents * 2 + live
    for i = 1, #dependents do out[#out + 1] = dependents[i] end
  else
    if invalidate then redis.call('SET', KEYS[b + 4], token, 'PX', ttl) end
    out[#out + 1] = -1
  end
end
return out
`,
);

/**
 * Writes an entry and its edges, or only edges.
 *
 * mode 'w' (write): KEYS = value, parents, generation of the key, then for each dependency in the
 *   same slot: its dependents index, value and generation. Checks every expected version first and
 *   writes nothing (reply 0) when one changed; then adds the key to each dependency's index, stores
 *   the value and replaces the key's parents record.
 * mode 'a' (add): like 'w' without touching the value, and adding to the parents record.
 * mode 'e' (edges): KEYS = dependents index, value and generation of each dependency in one slot
 *   (the other slots of a cluster write, sent before the 'w' call).
 *
 * ARGV: mode, key, px ('' = no expiry), expected own version ('-' = unchecked), payload,
 *       number of all dependencies, all dependencies, then one expected version per dependency
 *       triple in KEYS.
 * Edge scores are the server's time plus px, so expired edges are pruned by one clock per shard.
 */
export const WRITE = script(
  'write',
  `${EXTEND}${STATE}
local mode, child, px, expectOwn, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local all = tonumber(ARGV[6])
local base = 0
if mode ~= 'e' then base = 3 end
local edgeCount = (#KEYS - base) / 3
local expects = 6 + all
if mode == 'w' and expectOwn ~= '-' and state(KEYS[1], KEYS[3]) ~= expectOwn then return 0 end
for i = 1, edgeCount do
  local expected = ARGV[expects + i]
  if expected ~= '-' and state(KEYS[base + 3 * i - 1], KEYS[base + 3 * i]) ~= expected then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = '+inf'
if px ~= '' then score = now + tonumber(px) end
for i = 1, edgeCount do
  local index = KEYS[base + 3 * i - 2]
  local fresh = redis.call('EXISTS', index) == 0
  if not fresh then redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. now) end
  redis.call('ZADD', index, score, child)
  extend(index, px, fresh)
end
if mode == 'e' then return 1 end
if mode == 'w' then
  if px == '' then
    redis.call('SET', KEYS[1], payload)
  else
    redis.call('SET', KEYS[1], payload, 'PX', px)
  end
  redis.call('DEL', KEYS[2])
end
if all > 0 then
  local fresh = redis.call('EXISTS', KEYS[2]) == 0
  local args = {}
  for i = 1, all do
    args[#args + 1] = score
    args[#args + 1] = ARGV[6 + i]
  end
  redis.call('ZADD', KEYS[2], unpack(args))
  extend(KEYS[2], px, fresh)
end
return 1
`,
);

/**
 * Renews this instance's L1 lease. KEYS: the lease registry. ARGV: instance id, lease ms.
 * Returns the server time in ms.
 */
export const RENEW = script(
  'renew',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < lease * 2 then redis.call('PEXPIRE', KEYS[1], lease * 2) end
return now
`,
);

/**
 * Publishes an invalidation and, in the same atomic step, returns who holds a lease and until when
 * (server time), so the publisher knows whose confirmation to wait for.
 * KEYS: the lease registry. ARGV: channel, message, '1' for sharded pub/sub (cluster).
 * Returns {now, {id, expiry, id, expiry, ...}}.
 */
export const ANNOUNCE = script(
  'announce',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if ARGV[3] == '1' then
  redis.call('SPUBLISH', ARGV[1], ARGV[2])
else
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return {now, members}
`,
);

export const SCRIPTS: readonly Script[] = [VISIT, WRITE, RENEW, ANNOUNCE];
