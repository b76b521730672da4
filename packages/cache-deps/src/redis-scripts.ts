/**
 * The Lua scripts of the Redis store. Each touches only the keys passed to it; on a cluster the
 * store passes keys of one hash slot per call (a node's keys share the slot of its `{key}` tag), so
 * every script is Cluster-safe. Loaded once per server and called by SHA1 (EVALSHA).
 */
import { createHash } from 'node:crypto';

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
 * One breadth-first level of a cascade (or of a read-only walk).
 *
 * KEYS: per node, 4 keys: value, parents (what it depends on), dependents (index), generation.
 * ARGV: mode ('i' invalidate | 'r' read), drop ('1' | '0'), generation token, generation ttl ms,
 *       then per node: the number of parents it was reached from, and those parents.
 *
 * A node reached from parents that its own parents record no longer lists was reached over a stale
 * edge: it is left alone (reply {0}), but its generation is still bumped so that a `wrap` about to
 * store a value depending on those parents refuses to. Replies {1, dependents} otherwise.
 */
export const VISIT = script(
  'visit',
  `
local invalidate = ARGV[1] == 'i'
local drop = ARGV[2] == '1'
local token, generationTtl = ARGV[3], ARGV[4]
local a = 5
local out = {}
for n = 1, #KEYS / 4 do
  local b = (n - 1) * 4
  local count = tonumber(ARGV[a])
  local valid = count == 0
  for f = 1, count do
    if not valid and redis.call('ZSCORE', KEYS[b + 2], ARGV[a + f]) then valid = true end
  end
  a = a + count + 1
  if invalidate then redis.call('SET', KEYS[b + 4], token, 'PX', generationTtl) end
  if valid then
    local dependents = redis.call('ZRANGE', KEYS[b + 3], 0, -1)
    if invalidate then
      if drop then
        redis.call('DEL', KEYS[b + 1], KEYS[b + 2], KEYS[b + 3])
      else
        redis.call('DEL', KEYS[b + 1], KEYS[b + 2])
      end
    end
    out[n] = {1, dependents}
  else
    out[n] = {0}
  end
end
return out
`,
);

/**
 * Writes an entry and its edges, or only edges.
 *
 * mode 'w' (write): KEYS = value, parents, generation of the key, then for each dependency in the
 *   same slot: its dependents index and its generation. Checks every expected generation first and
 *   writes nothing (reply 0) when one changed; then adds the key to each dependency's index, stores
 *   the value and replaces the key's parents record.
 * mode 'a' (add): like 'w' without touching the value, and adding to the parents record.
 * mode 'e' (edges): KEYS = dependents index and generation of each dependency in one slot (the other
 *   slots of a cluster write, sent before the 'w' call).
 *
 * ARGV: mode, key, px ('' = no expiry), expected own generation ('-' = unchecked), payload,
 *       number of all dependencies, all dependencies, then one expected generation per pair of
 *       dependency keys in KEYS.
 * Edge scores are the server's time plus px, so expired edges are pruned by one clock per shard.
 */
export const WRITE = script(
  'write',
  `${EXTEND}
local mode, child, px, expectOwn, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local all = tonumber(ARGV[6])
local base = 0
if mode ~= 'e' then base = 3 end
local edgeCount = (#KEYS - base) / 2
local expects = 6 + all
if mode == 'w' and expectOwn ~= '-' and (redis.call('GET', KEYS[3]) or '') ~= expectOwn then return 0 end
for i = 1, edgeCount do
  local expected = ARGV[expects + i]
  if expected ~= '-' and (redis.call('GET', KEYS[base + 2 * i]) or '') ~= expected then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = '+inf'
if px ~= '' then score = now + tonumber(px) end
for i = 1, edgeCount do
  local index = KEYS[base + 2 * i - 1]
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
