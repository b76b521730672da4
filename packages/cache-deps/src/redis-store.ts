/**
 * The Redis store (node-redis v5), for one server or a Redis Cluster.
 *
 * Every node of the graph owns two keys that share its hash slot through the `{key}` tag:
 *
 *   <ns>:{<key>}:v   the entry (string, PX = ttl + grace), or the tombstone an invalidation left
 *   <ns>:{<key>}:n   its record (sorted set): `<` + each key it depends on (authoritative), `>` +
 *                    each key that depends on it (an index, checked against the dependent's own
 *                    record), scores = edge expiry in server time; and `}g<token>` (score -1), its
 *                    generation, bumped when a walk reaches it over a stale edge
 *
 * A cascade visits the graph level by level; each level is a batch of script calls sent together
 * (one round trip), each call holding nodes of one slot. See docs/cache-deps.md.
 */
import { CoherenceChannel } from './coherence';
import { VERSION_BYTES, versionOf } from './entry';
import { CacheError } from './errors';
import { assertNamespace } from './keys';
import { RedisConnection } from './redis-connection';
import { GENERATION_SCORE, PARENT, SCRIPTS, VISIT, WRITE } from './redis-scripts';
import type {
  CacheStore,
  CoherenceHandlers,
  CoherenceLink,
  CoherenceOptions,
  EdgeLifetime,
  RedisStoreOptions,
  StoreScope,
  StoreWrite,
  VisitItem,
  VisitMode,
  VisitResult,
} from './types';

const SCAN_COUNT = 1000;
// Shared answers for the common cases (most nodes of a big graph are leaves): fewer allocations.
const NONE: readonly string[] = Object.freeze([]);
const INVALID: VisitResult = { valid: false, live: false, dependents: NONE };
const LIVE_LEAF: VisitResult = { valid: true, live: true, dependents: NONE };
const DEAD_LEAF: VisitResult = { valid: true, live: false, dependents: NONE };

interface Group<T> {
  items: T[];
  indexes: number[];
}

function groupBy<T>(items: readonly T[], groupOf: (item: T) => number): Map<number, Group<T>> {
  const groups = new Map<number, Group<T>>();
  items.forEach((item, index) => {
    const id = groupOf(item);
    let group = groups.get(id);
    if (group === undefined) {
      group = { items: [], indexes: [] };
      groups.set(id, group);
    }
    group.items.push(item);
    group.indexes.push(index);
  });
  return groups;
}

function px(ttlMs: number | undefined): string {
  return ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(ttlMs)));
}

class RedisScope implements StoreScope {
  readonly #prefix: string;
  readonly #suffixAt: number;

  constructor(
    private readonly connection: RedisConnection,
    private readonly namespace: string,
    private readonly batchSize: number,
    private readonly tombstoneTtlMs: number,
    private readonly ready: Promise<void>,
  ) {
    this.#prefix = `${namespace}:{`;
    this.#suffixAt = -3; // '}:v'
  }

  #key(key: string, kind: 'v' | 'n'): string {
    return `${this.#prefix}${key}}:${kind}`;
  }

  /** What a write touches of a dependency: its value (for its version) and its record. */
  #edgeKeys(parent: string): string[] {
    return [this.#key(parent, 'v'), this.#key(parent, 'n')];
  }

  get(key: string): Promise<string | null | undefined> {
    const redisKey = this.#key(key, 'v');
    // GET answers a string or null: passed on as is, one promise less on the hottest path.
    return this.connection.send(redisKey, ['GET', redisKey], true) as Promise<string | null>;
  }

  async versions(keys: readonly string[]): Promise<string[]> {
    const replies = await Promise.all(
      keys.flatMap((key) => {
        const value = this.#key(key, 'v');
        const node = this.#key(key, 'n');
        return [
          this.connection.send(value, ['GETRANGE', value, '0', String(VERSION_BYTES - 1)], true),
          this.connection.send(node, ['ZRANGEBYSCORE', node, GENERATION_SCORE, GENERATION_SCORE], true),
        ];
      }),
    );
    const text = (reply: unknown) => (typeof reply === 'string' ? reply : '');
    const first = (reply: unknown) => (Array.isArray(reply) && reply.length > 0 ? String(reply[0]) : '');
    return keys.map((_, i) => versionOf(text(replies[2 * i]), first(replies[2 * i + 1])));
  }

  async write(request: StoreWrite): Promise<boolean> {
    await this.ready;
    const { key, dependsOn, expect } = request;
    const edges = dependsOn.map((parent, i) => ({ parent, expected: expect?.dependsOn[i] ?? '' }));
    return this.#edgesThenNode(
      'w',
      key,
      px(request.ttlMs),
      expect === undefined ? '-' : expect.key,
      request.payload,
      dependsOn,
      edges.map((edge) => ({ parent: edge.parent, expected: expect === undefined ? '-' : edge.expected })),
    );
  }

  /**
   * Adds the key to each dependency's index, then writes the node itself. On one server (or when all
   * dependencies share the key's slot) that is one atomic script; on a cluster the other slots go
   * first, so an invalidation that starts in between already finds the edges (and bumps the key's
   * generation, which the second call checks).
   */
  async #edgesThenNode(
    mode: 'w' | 'a',
    key: string,
    expiry: string,
    expectOwn: string,
    payload: string,
    all: readonly string[],
    edges: ReadonlyArray<{ parent: string; expected: string }>,
  ): Promise<boolean> {
    const own = this.connection.group(this.#key(key, 'v'));
    const groups = groupBy(edges, (edge) => this.connection.group(this.#key(edge.parent, 'n')));
    const local = groups.get(own)?.items ?? [];
    groups.delete(own);
    if (groups.size > 0) {
      const replies = await Promise.all(
        [...groups.values()].map(({ items }) =>
          this.connection.script(
            WRITE,
            items.flatMap((edge) => this.#edgeKeys(edge.parent)),
            ['e', key, expiry, '-', '', '0', ...items.map((edge) => edge.expected)],
          ),
        ),
      );
      if (replies.some((reply) => Number(reply) !== 1)) return false;
    }
    const reply = await this.connection.script(
      WRITE,
      [this.#key(key, 'v'), this.#key(key, 'n'), ...local.flatMap((edge) => this.#edgeKeys(edge.parent))],
      [
        mode,
        key,
        expiry,
        expectOwn,
        payload,
        String(all.length),
        ...all,
        ...local.map((edge) => edge.expected),
      ],
    );
    return Number(reply) === 1;
  }

  async addDependencies(key: string, dependsOn: readonly string[], lifetime: EdgeLifetime): Promise<void> {
    await this.ready;
    let expiry: string;
    if (lifetime.ttlMs === 'none') expiry = '';
    else if (lifetime.ttlMs !== 'entry') expiry = px(lifetime.ttlMs);
    else {
      // The edges live as long as the key's entry; resolved first so every slot gets the same expiry.
      const valueKey = this.#key(key, 'v');
      const [ttl, head] = await Promise.all([
        this.connection.send(valueKey, ['PTTL', valueKey], true),
        this.connection.send(valueKey, ['GETRANGE', valueKey, '0', '1'], true),
      ]);
      // No entry (or only the tombstone of one): the default lifetime.
      if (head !== '1|') expiry = px(lifetime.defaultTtlMs);
      else expiry = Number(ttl) === -1 ? '' : px(Number(ttl));
    }
    await this.#edgesThenNode(
      'a',
      key,
      expiry,
      '-',
      '',
      dependsOn,
      dependsOn.map((parent) => ({ parent, expected: '-' })),
    );
  }

  async dependencies(key: string): Promise<string[]> {
    const redisKey = this.#key(key, 'n');
    const reply = await this.connection.send(redisKey, ['ZRANGE', redisKey, '0', '-1'], true);
    if (!Array.isArray(reply)) return [];
    return reply.map(String).flatMap((member) => (member.startsWith(PARENT) ? [member.slice(1)] : []));
  }

  async visit(items: readonly VisitItem[], mode: VisitMode): Promise<VisitResult[]> {
    await this.ready;
    const results: VisitResult[] = new Array(items.length);
    const calls: Promise<void>[] = [];
    const head = [mode.invalidate ? 'i' : 'r', mode.token || '-', String(this.tombstoneTtlMs)];
    for (const [slot, group] of groupBy(items, (item) => this.connection.group(this.#key(item.key, 'v')))) {
      for (let start = 0; start < group.items.length; start += this.batchSize) {
        const chunk = group.items.slice(start, start + this.batchSize);
        const indexes = group.indexes.slice(start, start + this.batchSize);
        const keys: string[] = new Array(chunk.length * 2);
        const packed: string[] = [];
        for (let i = 0; i < chunk.length; i++) {
          const item = chunk[i]!;
          keys[2 * i] = this.#key(item.key, 'v');
          keys[2 * i + 1] = this.#key(item.key, 'n');
          const { from } = item;
          packed.push(`${from.length},`);
          for (let f = 0; f < from.length; f++) {
            const member = PARENT + from[f];
            packed.push(`${Buffer.byteLength(member)}:${member}`);
          }
        }
        calls.push(
          this.connection.scriptInSlot(VISIT, slot, keys, [...head, packed.join('')]).then((reply) => {
            const flat = reply as Array<string | number>;
            let at = 0;
            for (const index of indexes) {
              const code = Number(flat[at++]);
              if (code < 0) results[index] = INVALID;
              else if (code < 2) results[index] = code === 1 ? LIVE_LEAF : DEAD_LEAF;
              else {
                const count = code >> 1;
                const dependents = new Array<string>(count);
                // Members come as `>` + key.
                for (let i = 0; i < count; i++) dependents[i] = (flat[at + i] as string).slice(1);
                results[index] = { valid: true, live: (code & 1) === 1, dependents };
                at += count;
              }
            }
          }),
        );
      }
    }
    await Promise.all(calls);
    return results;
  }

  async *scan(pattern: string): AsyncIterable<string[]> {
    // The namespace holds no glob characters (checked), so only the caller's pattern matches.
    const match = `${this.#prefix}${pattern}}:[vn]`;
    const start = this.#prefix.length;
    for await (const keys of this.connection.scan(match, SCAN_COUNT)) {
      const names = new Set<string>();
      for (const redisKey of keys) names.add(redisKey.slice(start, this.#suffixAt));
      yield [...names];
    }
  }

  coherence(handlers: CoherenceHandlers, options: CoherenceOptions): CoherenceLink {
    return new CoherenceChannel(this.connection, this.namespace, handlers, options);
  }
}

/**
 * A store on Redis or Redis Cluster through node-redis v5. Pass a connected client; cluster-safe:
 * every script touches only the keys it is given, all in one hash slot.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
 * const cache = createCache({ store: createRedisStore({ client }), namespace: 'app', l1: true });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  if (
    typeof options !== 'object' ||
    options === null ||
    typeof options.client !== 'object' ||
    options.client === null
  ) {
    throw new CacheError(
      'INVALID_OPTIONS',
      'createRedisStore needs a connected node-redis client or cluster as `client`',
    );
  }
  const { client, timeoutMs = 1_000, batchSize = 512, tombstoneTtlMs = 600_000 } = options;
  if (typeof client.sendCommand !== 'function') {
    throw new CacheError('INVALID_OPTIONS', 'client must be a node-redis v5 client or cluster');
  }
  for (const [name, value] of Object.entries({ timeoutMs, batchSize, tombstoneTtlMs })) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new CacheError('INVALID_OPTIONS', `${name} must be a positive number`);
    }
  }
  const connection = new RedisConnection(client, timeoutMs);
  // Scripts are loaded once up front; a server that lost them (restart, failover) gets them again
  // through EVAL on the NOSCRIPT reply. Failing here is not fatal: calls report their own errors.
  const ready = connection.loadScripts(SCRIPTS).catch(() => undefined);
  return {
    kind: connection.cluster ? 'redis-cluster' : 'redis',
    scope(namespace: string): StoreScope {
      assertNamespace(namespace);
      return new RedisScope(connection, namespace, Math.floor(batchSize), Math.ceil(tombstoneTtlMs), ready);
    },
    close: () => connection.close(),
  };
}
