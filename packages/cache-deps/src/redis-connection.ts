/**
 * What the Redis store needs from node-redis v5, for a single server (`createClient`) and for a
 * cluster (`createCluster`) alike: commands with a time limit and typed errors, scripts by SHA1,
 * SCAN over every master, and pub/sub (sharded on a cluster). Typed structurally, so @plat/cache-deps
 * has no runtime dependency on `redis`.
 */
import { Deadlines } from './deadline';
import { CacheError } from './errors';
import type { Script } from './redis-scripts';
import { slotOf } from './slot';

type MessageListener = (message: string, channel: string) => unknown;

/** The parts of a node-redis v5 client (`createClient()`, connected) the store uses. */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: 'error' | 'end', listener: (error: Error) => void): unknown;
  subscribe(channels: string[], listener: MessageListener): Promise<unknown>;
  unsubscribe(channels?: string[]): Promise<unknown>;
}

/** A node of a cluster, as node-redis lists them in `cluster.masters`. */
export interface RedisClusterNodeLike {
  readonly address: string;
}

/** A client of one cluster node, as `cluster.nodeClient(master)` returns it. */
export interface RedisNodeClientLike {
  readonly isReady?: boolean;
  sendCommand(args: string[]): Promise<unknown>;
}

/** The parts of a node-redis v5 cluster (`createCluster()`, connected) the store uses. */
export interface RedisClusterLike {
  readonly isOpen: boolean;
  readonly masters: readonly RedisClusterNodeLike[];
  /** node-redis' slot table (`cluster.slots[slot].master`), used to reach a slot's master directly. */
  readonly slots?: ReadonlyArray<{ readonly master: RedisClusterNodeLike } | undefined>;
  nodeClient(node: RedisClusterNodeLike): Promise<RedisNodeClientLike>;
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  sSubscribe(channels: string[], listener: MessageListener): Promise<unknown>;
  sUnsubscribe(channels: string[], listener?: MessageListener): Promise<unknown>;
}

/** A live subscription; `close` ends it. */
export interface Subscription {
  close(): Promise<void>;
}

function isCluster(target: RedisClientLike | RedisClusterLike): target is RedisClusterLike {
  return 'masters' in target && typeof (target as RedisClusterLike).nodeClient === 'function';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A Redis error reply (as opposed to a connection problem); node-redis names it ErrorReply. */
function isErrorReply(error: unknown): boolean {
  return error instanceof Error && (error.constructor.name === 'ErrorReply' || error.name === 'ErrorReply');
}

/** node-redis errors as typed cache errors; the cause keeps the original. */
export function storeError(error: unknown): CacheError {
  if (error instanceof CacheError) return error;
  if (error instanceof Error && error.constructor.name === 'TimeoutError') {
    return new CacheError('STORE_TIMEOUT', 'Redis did not answer in time', { cause: error });
  }
  if (isErrorReply(error)) {
    const code = /^[A-Z]+/.exec(errorText(error))?.[0] ?? 'ERR';
    return new CacheError('STORE_UNAVAILABLE', `Redis refused the command (${code})`, {
      cause: error,
      details: { reply: code },
    });
  }
  return new CacheError('STORE_UNAVAILABLE', 'Redis is not reachable', { cause: error });
}

export class RedisConnection {
  readonly cluster: boolean;
  readonly #deadlines: Deadlines;
  readonly #timeoutMs: number;
  #closed = false;
  readonly #subscriptions = new Set<Subscription>();

  constructor(
    private readonly target: RedisClientLike | RedisClusterLike,
    timeoutMs: number,
  ) {
    this.cluster = isCluster(target);
    this.#timeoutMs = timeoutMs;
    this.#deadlines = new Deadlines(timeoutMs, this.#timeout);
  }

  /** Keys in one group may go to one script: one slot on a cluster, everything on one server. */
  group(key: string): number {
    return this.cluster ? slotOf(key) : 0;
  }

  #timeout = (): Error =>
    new CacheError('STORE_TIMEOUT', `Redis did not answer within ${this.#timeoutMs} ms`, {
      details: { timeoutMs: this.#timeoutMs },
    });

  #guard<T>(promise: Promise<T>): Promise<T> {
    return this.#deadlines.run(promise, storeError);
  }

  /** One command, routed by `routeKey` on a cluster. */
  send(routeKey: string | undefined, args: string[], readonly: boolean): Promise<unknown> {
    if (this.#closed) return Promise.reject(new CacheError('CLOSED', 'the Redis store was closed'));
    if (this.cluster) {
      const cluster = this.target as RedisClusterLike;
      if (!cluster.isOpen) return Promise.reject(storeError(new Error('the cluster client is closed')));
      return this.#guard(cluster.sendCommand(routeKey, readonly, args));
    }
    const client = this.target as RedisClientLike;
    // Not ready means reconnecting: fail now rather than pile commands up in node-redis' offline queue.
    if (!client.isReady) return Promise.reject(storeError(new Error('the client is not connected')));
    return this.#guard(client.sendCommand(args));
  }

  /** EVALSHA, falling back to EVAL (which also caches it) when the server lost the script. */
  async script(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const route = keys[0];
    try {
      return await this.send(route, ['EVALSHA', script.sha, String(keys.length), ...keys, ...args], false);
    } catch (error) {
      if (!(error instanceof CacheError) || !errorText(error.cause).startsWith('NOSCRIPT')) throw error;
      return this.send(route, ['EVAL', script.source, String(keys.length), ...keys, ...args], false);
    }
  }

  /**
   * A script whose keys all hash to `slot`. On a cluster it goes straight to the slot's master
   * (node-redis' own routing costs more than the script for small calls, and a cascade makes
   * thousands of them); a redirection (slots moving) falls back to node-redis' routing, which
   * follows it and refreshes the slot table. The script has not run when Redis answers MOVED/ASK.
   */
  async scriptInSlot(
    script: Script,
    slot: number,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    if (!this.cluster) return this.script(script, keys, args);
    const node = await this.#slotClient(slot);
    if (node === undefined || node.isReady === false) return this.script(script, keys, args);
    const command = (verb: string, body: string) => [verb, body, String(keys.length), ...keys, ...args];
    try {
      return await this.#guard(node.sendCommand(command('EVALSHA', script.sha)));
    } catch (error) {
      const reply = error instanceof CacheError ? errorText(error.cause) : '';
      if (reply.startsWith('NOSCRIPT')) return this.#guard(node.sendCommand(command('EVAL', script.source)));
      if (/^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(reply)) return this.script(script, keys, args);
      throw error;
    }
  }

  readonly #nodeClients = new Map<string, Promise<RedisNodeClientLike>>();

  #slotClient(slot: number): Promise<RedisNodeClientLike | undefined> | undefined {
    const cluster = this.target as RedisClusterLike;
    const master = cluster.slots?.[slot]?.master;
    if (master === undefined) return undefined;
    let client = this.#nodeClients.get(master.address);
    if (client === undefined) {
      client = cluster.nodeClient(master);
      this.#nodeClients.set(master.address, client);
      // A failed connection is not cached: the next call asks again.
      client.catch(() => this.#nodeClients.delete(master.address));
    }
    return client.catch(() => undefined);
  }

  /** A way to send to each master: the client itself on one server, each node's client on a cluster. */
  async #masters(): Promise<Array<(args: string[]) => Promise<unknown>>> {
    const target = this.target;
    if (!isCluster(target)) return [(args) => this.send(undefined, args, true)];
    const clients = await Promise.all(target.masters.map((node) => this.#guard(target.nodeClient(node))));
    return clients.map((client) => (args: string[]) => this.#guard(client.sendCommand(args)));
  }

  /** Loads the scripts on every master, so the first calls already go by SHA1. */
  async loadScripts(scripts: readonly Script[]): Promise<void> {
    const masters = await this.#masters();
    await Promise.all(
      masters.flatMap((send) => scripts.map((script) => send(['SCRIPT', 'LOAD', script.source]))),
    );
  }

  /** SCAN with MATCH over every master, one batch per reply; never KEYS. */
  async *scan(match: string, count: number): AsyncIterable<string[]> {
    for (const send of await this.#masters()) {
      let cursor = '0';
      do {
        if (this.#closed) throw new CacheError('CLOSED', 'the Redis store was closed');
        const reply = (await send(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)])) as [
          string,
          string[],
        ];
        cursor = String(reply[0]);
        if (reply[1].length > 0) yield reply[1];
      } while (cursor !== '0');
    }
  }

  /** PUBLISH, or SPUBLISH on a cluster (the channel's slot picks the shard). */
  publish(channel: string, message: string): Promise<unknown> {
    return this.send(channel, [this.cluster ? 'SPUBLISH' : 'PUBLISH', channel, message], false);
  }

  /**
   * Subscribes to channels of one slot: a dedicated connection on a single server (`onLoss` hears
   * about its errors), sharded pub/sub on a cluster.
   */
  async subscribe(
    channels: string[],
    listener: MessageListener,
    onLoss: (error: unknown) => void,
  ): Promise<Subscription> {
    if (this.#closed) throw new CacheError('CLOSED', 'the Redis store was closed');
    const target = this.target;
    let subscription: Subscription;
    if (isCluster(target)) {
      await this.#guard(target.sSubscribe(channels, listener));
      subscription = {
        close: async () => {
          await target.sUnsubscribe(channels, listener).catch(() => undefined);
        },
      };
    } else {
      const subscriber = target.duplicate();
      subscriber.on('error', (error) => onLoss(error));
      subscriber.on('end', () => onLoss(new Error('subscriber connection ended')));
      try {
        await this.#guard(subscriber.connect());
        await this.#guard(subscriber.subscribe(channels, listener));
      } catch (error) {
        subscriber.destroy();
        throw error;
      }
      subscription = {
        close: async () => {
          if (!subscriber.isOpen) return;
          try {
            await this.#deadlines.run(subscriber.close());
          } catch {
            subscriber.destroy();
          }
        },
      };
    }
    const tracked: Subscription = {
      close: async () => {
        this.#subscriptions.delete(tracked);
        await subscription.close();
      },
    };
    this.#subscriptions.add(tracked);
    return tracked;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    this.#closed = true;
    this.#deadlines.failAll(new CacheError('CLOSED', 'the Redis store was closed'));
  }
}
