/**
 * The Lua scripts of the Redis store. Each touches only the keys passed to it; on a cluster the
 * store passes keys of one hash slot per call (a node's keys share the slot of its `{key}` tag), so
 * every script is Cluster-safe. Loaded once per server and called by SHA1 (EVALSHA).
 */
import { createHash } from 'node:crypto';
import { VERSION_BYTES } from './entry';

/**
 * Members of a node's record (`<ns>:{<key>}:n`, a sorted set): `<` + a key it depends on, `>` + a key
 * that depends on it (scores: the edge's expiry, server time), and one generation member `}g<token>`
 * with the score -1. Keys never start with `}`, and the one-character prefixes make every member
 * unambiguous whatever the key holds.
 */
export const PARENT = '<';
export const CHILD = '>';
export const GENERATION = '}g';
export const GENERATION_SCORE = '-1';

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
 * and its generation member (bumped when a walk reached it over an edge it no longer declares).
 * RedisScope.versions computes the same from GETRANGE + ZRANGEBYSCORE.
 */
const STATE = `
local function state(value, node)
  local head = redis.call('GETRANGE', value, 0, ${VERSION_BYTES - 1})
  if string.sub(head, 1, 2) == '1|' then head = string.match(head, '^1|[^|]*') or head end
  local generation = redis.call('ZRANGEBYSCORE', node, ${GENERATION_SCORE}, ${GENERATION_SCORE})
  return head .. '#' .. (generation[1] or '')
end
`;

/**
 * One breadth-first level of a cascade (or of a read-only walk).
 *
 * KEYS: per node, 2 keys: its value and its record.
 * ARGV: mode ('i' invalidate | 'r' read), token, tombstone ttl ms, and the parents each node was
 *       reached from, packed in one string (one argument instead of thousands): per node
 *       `<count>,` then per parent `<byte length>:<member>` (member = `<` + key).
 *
 * Two calls per node: the record is read whole (what it depends on, what depends on it), and the
 * value is swapped for a tombstone `0|<token>` (so a `wrap` that read the key before refuses to
 * store). A node reached from parents its record no longer lists was reached over a stale edge: it
 * keeps its value, but its generation is bumped, so that a `wrap` about to store a value depending
 * on those parents refuses to. Edges stay in place (a retry after a failure must still find its way
 * down); they expire with the entries that declared them.
 *
 * The reply is flat: per node, -1 (reached over a stale edge), or 2 * (number of dependents) + 1 if
 * it was live (+ 0 if it already held a tombstone), followed by the dependents as `>` + key.
 */
export const VISIT = script(
  'visit',
  `
local invalidate = ARGV[1] == 'i'
local token, ttl, packed = ARGV[2], ARGV[3], ARGV[4]
local tombstone = '0|' .. token
local pos = 1
local out = {}
for n = 1, #KEYS / 2 do
  local value, node = KEYS[2 * n - 1], KEYS[2 * n]
  local comma = string.find(packed, ',', pos, true)
  local count = tonumber(string.sub(packed, pos, comma - 1))
  pos = comma + 1
  local from = {}
  for f = 1, count do
    local colon = string.find(packed, ':', pos, true)
    local length = tonumber(string.sub(packed, pos, colon - 1))
    from[f] = string.sub(packed, colon + 1, colon + length)
    pos = colon + 1 + length
  end
  local valid = count == 0
  local members = redis.call('ZRANGE', node, 0, -1)
  local at = #out + 1
  out[at] = 0
  local dependents = 0
  for i = 1, #members do
    local member = members[i]
    local kind = string.byte(member, 1)
    if kind == 62 then
      dependents = dependents + 1
      out[at + dependents] = member
    elseif kind == 60 and not valid then
      for f = 1, count do
        if member == from[f] then
          valid = true
          break
        end
      end
    end
  end
  if valid then
    local live = 1
    if invalidate then
      local old = redis.call('SET', value, tombstone, 'PX', ttl, 'GET')
      if old and string.sub(old, 1, 2) == '0|' then live = 0 end
    end
    out[at] = dependents * 2 + live
  else
    for i = at + dependents, at + 1, -1 do out[i] = nil end
    out[at] = -1
    if invalidate then
      redis.call('ZREMRANGEBYSCORE', node, ${GENERATION_SCORE}, ${GENERATION_SCORE})
      redis.call('ZADD', node, ${GENERATION_SCORE}, '${GENERATION}' .. token)
      if #members == 0 then redis.call('PEXPIRE', node, ttl) end
    end
  end
end
return out
`,
);

/**
 * Writes an entry and its edges, or only edges.
 *
 * mode 'w' (write): KEYS = value and record of the key, then value and record of each dependency
 *   in the same slot. Checks every expected version first and writes nothing (reply 0) when one
 *   changed; then adds `>` + key to each dependency's record, stores the value and replaces the
 *   `<` members of the key's record.
 * mode 'a' (add): like 'w' without touching the value, and adding `<` members.
 * mode 'e' (edges): KEYS = value and record of each dependency in one slot (the other slots of a
 *   cluster write, sent before the 'w' call).
 *
 * ARGV: mode, key, px ('' = no expiry), expected own version ('-' = unchecked), payload,
 *       number of all dependencies, all dependencies, then one expected version per dependency
 *       pair in KEYS.
 * Edge scores are the server's time plus px, so expired edges are pruned by one clock per shard.
 */
export const WRITE = script(
  'write',
  `${EXTEND}${STATE}
local mode, child, px, expectOwn, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local all = tonumber(ARGV[6])
local base = 0
if mode ~= 'e' then base = 2 end
local edgeCount = (#KEYS - base) / 2
local expects = 6 + all
if mode == 'w' and expectOwn ~= '-' and state(KEYS[1], KEYS[2]) ~= expectOwn then return 0 end
for i = 1, edgeCount do
  local expected = ARGV[expects + i]
  if expected ~= '-' and state(KEYS[base + 2 * i - 1], KEYS[base + 2 * i]) ~= expected then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = '+inf'
if px ~= '' then score = now + tonumber(px) end
-- unpack() has a limit of a few thousand values: long lists go in slices.
local function each(command, key, list, step)
  for i = 1, #list, step do
    redis.call(command, key, unpack(list, i, math.min(i + step - 1, #list)))
  end
end
local function add(node, members)
  local fresh = redis.call('EXISTS', node) == 0
  if not fresh then redis.call('ZREMRANGEBYSCORE', node, 0, '(' .. now) end
  each('ZADD', node, members, 1000)
  extend(node, px, fresh)
end
for i = 1, edgeCount do add(KEYS[base + 2 * i], {score, '${CHILD}' .. child}) end
if mode == 'e' then return 1 end
if mode == 'w' then
  if px == '' then
    redis.call('SET', KEYS[1], payload)
  else
    redis.call('SET', KEYS[1], payload, 'PX', px)
  end
  local old = redis.call('ZRANGE', KEYS[2], 0, -1)
  local stale = {}
  for i = 1, #old do
    if string.byte(old[i], 1) == 60 then stale[#stale + 1] = old[i] end
  end
  each('ZREM', KEYS[2], stale, 1000)
end
if all > 0 then
  local members = {}
  for i = 1, all do
    members[#members + 1] = score
    members[#members + 1] = '${PARENT}' .. ARGV[6 + i]
  end
  add(KEYS[2], members)
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
