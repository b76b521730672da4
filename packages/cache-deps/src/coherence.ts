/**
 * Keeps the L1s of several instances coherent through Redis, so that once `invalidate` resolves no
 * instance serves the old value from memory.
 *
 * - Each instance holds a lease in a registry (sorted set, score = expiry in server time), renewed
 *   every third of `leaseMs`, but only after a probe published to its own channel came back through
 *   its subscription: a broken subscription stops renewals. L1 serves only while the lease, measured
 *   locally from before the renewal was sent, is valid; a lapse empties L1.
 * - An invalidation is published together with a snapshot of the registry (one script). The
 *   publisher then waits until every other lease holder confirmed (after dropping the keys) or its
 *   lease ran out: an instance that cannot confirm has stopped serving from L1 by then.
 *
 * All keys and channels carry the namespace as hash tag, so on a cluster they live on one shard and
 * travel over one sharded pub/sub connection, in order.
 */
import { randomBytes } from 'node:crypto';
import { isPlatError } from '@plat/core';
import { CacheError } from './errors';
import type { RedisConnection, Subscription } from './redis-connection';
import { ANNOUNCE, RENEW } from './redis-scripts';
import type { CoherenceHandlers, CoherenceLink, CoherenceOptions } from './types';

interface Announcement {
  /** `i`: message id, `o`: origin instance, `k`: keys (null: all), `c`: 1 when confirmations are awaited. */
  i: string;
  o: string;
  k: string[] | null;
  c: 0 | 1;
}

function parseAnnouncement(message: string): Announcement | undefined {
  try {
    const value = JSON.parse(message) as Partial<Announcement>;
    if (typeof value.i !== 'string' || typeof value.o !== 'string') return undefined;
    if (value.k !== null && !(Array.isArray(value.k) && value.k.every((k) => typeof k === 'string')))
      return undefined;
    return { i: value.i, o: value.o, k: value.k, c: value.c === 1 ? 1 : 0 };
  } catch {
    return undefined;
  }
}

/** Safety margin taken off the local lease (timer granularity, clock rate differences). */
const LEASE_MARGIN = 0.95;

export class CoherenceChannel implements CoherenceLink {
  readonly #id = randomBytes(9).toString('base64url');
  readonly #registry: string;
  readonly #broadcast: string;
  readonly #inboxPrefix: string;
  readonly #inbox: string;
  #leaseUntil = 0;
  #subscription: Subscription | undefined;
  #subscribing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failing = false;
  #probeSeq = 0;
  #probe: { seq: number; arrived: () => void } | undefined;
  readonly #acks = new Map<string, (from: string) => void>();

  constructor(
    private readonly connection: RedisConnection,
    namespace: string,
    private readonly handlers: CoherenceHandlers,
    private readonly options: CoherenceOptions,
  ) {
    const tag = `${namespace}:{${namespace}}:l1`;
    this.#registry = tag;
    this.#broadcast = `${tag}:all`;
    this.#inboxPrefix = `${tag}:i:`;
    this.#inbox = `${this.#inboxPrefix}${this.#id}`;
    // Without an L1 there is nothing to lease: the link only announces (and subscribes, lazily, to
    // its inbox for confirmations).
    if (options.lease) void this.#beat();
  }

  live(): boolean {
    return performance.now() < this.#leaseUntil;
  }

  #subscribe(): Promise<void> {
    if (this.#subscription !== undefined) return Promise.resolve();
    this.#subscribing ??= this.connection
      .subscribe(
        this.options.lease ? [this.#broadcast, this.#inbox] : [this.#inbox],
        (message, channel) => this.#onMessage(message, channel),
        (error) => this.#lost(error),
      )
      .then(
        async (subscription) => {
          if (this.#closed) await subscription.close();
          else this.#subscription = subscription;
        },
        (error: unknown) => {
          this.#subscribing = undefined;
          throw error;
        },
      );
    return this.#subscribing;
  }

  /** The subscription connection failed: stop serving from L1 at once rather than at lease end. */
  #lost(error: unknown): void {
    if (this.#closed) return;
    if (this.#leaseUntil > 0) {
      this.#leaseUntil = 0;
      this.handlers.drop(undefined);
    }
    if (!this.#failing) {
      this.#failing = true;
      this.handlers.error(error);
    }
  }

  async #beat(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#subscribe();
      // 1. The subscription delivers: a probe published now comes back through it.
      const seq = ++this.#probeSeq;
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<void>((resolve, reject) => {
        this.#probe = { seq, arrived: resolve };
        timer = setTimeout(
          () => reject(new CacheError('STORE_TIMEOUT', 'the L1 coherence probe did not come back')),
          Math.max(20, this.options.leaseMs / 2),
        );
      });
      try {
        await this.connection.publish(this.#inbox, `p|${seq}`);
        await arrived;
      } finally {
        clearTimeout(timer);
        this.#probe = undefined;
      }
      // 2. Renew the lease; the local lease counts from before the request, so it ends first.
      const started = performance.now();
      await this.connection.script(
        RENEW,
        [this.#registry],
        [this.#id, String(Math.ceil(this.options.leaseMs))],
      );
      if (this.#closed) return;
      // After a lapse, L1 may have missed invalidations: start empty.
      if (this.#leaseUntil <= started) this.handlers.drop(undefined);
      this.#leaseUntil = started + this.options.leaseMs * LEASE_MARGIN;
      this.#failing = false;
    } catch (error) {
      // The store itself was closed: there is nothing left to renew.
      if (isPlatError(error, 'CLOSED')) this.#closed = true;
      else if (!this.#failing) {
        this.#failing = true;
        this.handlers.error(error);
      }
    } finally {
      if (!this.#closed) {
        this.#timer = setTimeout(() => void this.#beat(), Math.max(10, this.options.leaseMs / 3));
        this.#timer.unref();
      }
    }
  }

  #onMessage(message: string, channel: string): void {
    if (channel === this.#inbox) {
      if (message.startsWith('p|')) {
        if (this.#probe !== undefined && this.#probe.seq === Number(message.slice(2))) this.#probe.arrived();
      } else if (message.startsWith('a|')) {
        const [, id, from] = message.split('|');
        if (id !== undefined && from !== undefined) this.#acks.get(id)?.(from);
      }
      return;
    }
    const announcement = parseAnnouncement(message);
    if (announcement === undefined) {
      // Someone else writes to our channel; dropping everything is the only safe reading.
      this.handlers.drop(undefined);
      this.handlers.error(new CacheError('INVALID_VALUE', 'an unreadable message arrived on the L1 channel'));
      return;
    }
    if (announcement.o === this.#id) return;
    this.handlers.drop(announcement.k ?? undefined);
    if (announcement.c === 1) {
      this.connection
        .publish(`${this.#inboxPrefix}${announcement.o}`, `a|${announcement.i}|${this.#id}`)
        .catch((error: unknown) => this.handlers.error(error));
    }
  }

  async announce(keys: readonly string[] | undefined, confirm: boolean): Promise<void> {
    if (this.#closed) return;
    // This link's own keys are already out of its L1 (the cache dropped them first).
    if (!confirm) {
      await this.connection.publish(this.#broadcast, this.#message(keys, false).text);
      return;
    }
    const started = performance.now();
    if (this.#subscription === undefined && !this.options.lease) {
      // A cache without an L1 subscribes to its inbox only once some instance does hold an L1:
      // the first announcement tells. If it found lease holders, their confirmations went nowhere,
      // so announce once more now that they can reach us.
      const first = await this.#publishAndList(this.#message(keys, true).text);
      if (first.members.length === 0) return;
      await this.#subscribe();
    } else {
      // Confirmations come to our inbox, so it must be subscribed before anyone can answer.
      await this.#subscribe();
    }
    const { id, text: message } = this.#message(keys, true);
    const acked = new Set<string>();
    let wake: (() => void) | undefined;
    this.#acks.set(id, (from) => {
      acked.add(from);
      wake?.();
    });
    try {
      const { members, received, serverNow } = await this.#publishAndList(message);
      // Each other lease holder, and the local time at which its lease is over for sure.
      const waiting = new Map<string, number>();
      for (const { id: member, expiresAt } of members) {
        waiting.set(member, received + (expiresAt - serverNow) + 1);
      }
      const giveUpAt = started + this.options.ackTimeoutMs;
      for (;;) {
        const now = performance.now();
        let next = giveUpAt;
        for (const [member, leaseEnd] of waiting) {
          if (acked.has(member) || leaseEnd <= now) waiting.delete(member);
          else next = Math.min(next, leaseEnd);
        }
        if (waiting.size === 0) return;
        if (now >= giveUpAt) {
          throw new CacheError(
            'INVALIDATION_UNCONFIRMED',
            `${waiting.size} instance(s) did not confirm dropping the keys from their L1 within ${this.options.ackTimeoutMs} ms`,
            { details: { unconfirmed: waiting.size, ackTimeoutMs: this.options.ackTimeoutMs } },
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, next - now));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      this.#acks.delete(id);
    }
  }

  #message(keys: readonly string[] | undefined, confirm: boolean): { id: string; text: string } {
    const announcement: Announcement = {
      i: randomBytes(9).toString('base64url'),
      o: this.#id,
      k: keys === undefined ? null : [...keys],
      c: confirm ? 1 : 0,
    };
    return { id: announcement.i, text: JSON.stringify(announcement) };
  }

  /** Publishes and returns, atomically with it, the other lease holders and their lease ends. */
  async #publishAndList(
    message: string,
  ): Promise<{ members: Array<{ id: string; expiresAt: number }>; received: number; serverNow: number }> {
    const reply = (await this.connection.script(
      ANNOUNCE,
      [this.#registry],
      [this.#broadcast, message, this.connection.cluster ? '1' : '0'],
    )) as [number | string, string[]];
    const received = performance.now();
    const flat = reply[1] ?? [];
    const members: Array<{ id: string; expiresAt: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = String(flat[i]);
      if (id !== this.#id) members.push({ id, expiresAt: Number(flat[i + 1]) });
    }
    return { members, received, serverNow: Number(reply[0]) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#leaseUntil = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.connection
      .send(this.#registry, ['ZREM', this.#registry, this.#id], false)
      .catch(() => undefined);
    await this.#subscribing?.catch(() => undefined);
    await this.#subscription?.close();
  }
}
