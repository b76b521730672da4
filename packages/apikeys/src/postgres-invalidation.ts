/**
 * Cross-instance invalidation through PostgreSQL's own LISTEN / NOTIFY, for fleets that share the
 * key database but run no Redis: a revoke on one instance reaches the others in milliseconds
 * instead of a cache TTL later. One dedicated connection per manager listens; it reconnects with
 * backoff, and after any gap the manager drops its whole cache, since notifications sent while
 * nobody listened are gone.
 */
import { ApiKeyError } from './errors';
import { ALL_KEYS } from './invalidation-channel';
import type { InvalidationSignal } from './types';

/** Options of `createPostgresInvalidationSignal()`. */
export interface PostgresInvalidationOptions {
  /** `postgres://user:password@host:5432/db`, the database every instance shares. */
  connectionString: string;
  /**
   * The NOTIFY channel; instances that share it see each other's changes.
   * @default 'plat_apikeys_invalidate'
   */
  channel?: string;
  /** First delay before reconnecting a lost listener, doubled up to 5 s. @default 100 */
  reconnectDelayMs?: number;
}

/** The part of a pg `Client` the signal uses (pg is an optional peer, loaded on first use). */
interface PgClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<unknown>;
  escapeIdentifier(name: string): string;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

const MAX_RECONNECT_DELAY_MS = 5000;
// NOTIFY payloads are limited to 8000 bytes and channels to an identifier's 63.
const MAX_CHANNEL_LENGTH = 63;

/**
 * An invalidation signal over PostgreSQL LISTEN / NOTIFY, for `createApiKeyManager({ invalidation })`.
 * `createPostgresKeyStore()` brings one of its own; use this with `createKyselyKeyStore()` on PostgreSQL.
 *
 * @example
 * ```ts
 * const manager = createApiKeyManager({
 *   store: createKyselyKeyStore({ db }),
 *   peppers,
 *   invalidation: createPostgresInvalidationSignal({ connectionString: process.env.DATABASE_URL! }),
 * });
 * ```
 */
export function createPostgresInvalidationSignal(options: PostgresInvalidationOptions): InvalidationSignal {
  if (typeof options?.connectionString !== 'string' || options.connectionString === '') {
    throw new ApiKeyError('INVALID_OPTIONS', 'connectionString must be a PostgreSQL URL');
  }
  const channel = options.channel ?? 'plat_apikeys_invalidate';
  if (typeof channel !== 'string' || channel === '' || channel.length > MAX_CHANNEL_LENGTH) {
    throw new ApiKeyError(
      'INVALID_OPTIONS',
      `channel must be a name of 1 to ${MAX_CHANNEL_LENGTH} characters`,
    );
  }
  const delay = options.reconnectDelayMs ?? 100;
  if (!Number.isFinite(delay) || delay <= 0) {
    throw new ApiKeyError('INVALID_OPTIONS', 'reconnectDelayMs must be a positive number');
  }
  return new PostgresInvalidationSignal(options.connectionString, channel, delay);
}

class PostgresInvalidationSignal implements InvalidationSignal {
  readonly #connectionString: string;
  readonly #channel: string;
  readonly #firstDelayMs: number;
  #delayMs: number;
  /** The client of the latest attempt, connecting or listening; events of older ones are ignored. */
  #current: PgClient | undefined;
  /** `#current` once it listens. */
  #listener: PgClient | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Set once a listener was lost or never came up: the next one that connects must clear the cache. */
  #missedSome = false;
  #onKeyId: (keyId: string) => void = () => {};
  #report: (error: ApiKeyError) => void = () => {};

  constructor(connectionString: string, channel: string, firstDelayMs: number) {
    this.#connectionString = connectionString;
    this.#channel = channel;
    this.#firstDelayMs = firstDelayMs;
    this.#delayMs = firstDelayMs;
  }

  /** Opens the listening connection; a failure is reported and retried, never thrown. */
  async start(onKeyId: (keyId: string) => void, report: (error: ApiKeyError) => void): Promise<void> {
    this.#onKeyId = onKeyId;
    this.#report = report;
    await this.#listen();
  }

  async publish(keyId: string): Promise<void> {
    const listener = this.#listener;
    if (listener !== undefined) {
      await listener.query('select pg_notify($1, $2)', [this.#channel, keyId]);
      return;
    }
    // The listener is down (it is being reconnected): the others must still hear about it.
    const client = await this.#newClient();
    try {
      await client.connect();
      await client.query('select pg_notify($1, $2)', [this.#channel, keyId]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const current = this.#current;
    this.#current = undefined;
    this.#listener = undefined;
    await current?.end().catch(() => undefined);
  }

  async #newClient(): Promise<PgClient> {
    const { default: pg } = await import('pg');
    return new pg.Client({
      connectionString: this.#connectionString,
      application_name: 'plat-apikeys-invalidation',
    }) as unknown as PgClient;
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    let client: PgClient | undefined;
    try {
      client = await this.#newClient();
      const current = client;
      this.#current = current;
      current.on('notification', (message) => {
        if (message.channel === this.#channel && message.payload) this.#onKeyId(message.payload);
      });
      current.on('error', (cause) => this.#lost(current, cause));
      current.on('end', () => this.#lost(current, undefined));
      await current.connect();
      await current.query(`LISTEN ${current.escapeIdentifier(this.#channel)}`);
      if (this.#current !== current) return; // closed meanwhile
      this.#listener = current;
      this.#delayMs = this.#firstDelayMs;
      if (this.#missedSome) {
        this.#missedSome = false;
        this.#onKeyId(ALL_KEYS);
      }
    } catch (cause) {
      if (client !== undefined) this.#lost(client, cause);
      else this.#reportAndRetry(cause);
    }
  }

  /** A listener failed or ended: drop it and try again later (once, however many events say so). */
  #lost(client: PgClient, cause: unknown): void {
    if (client !== this.#current) return;
    this.#current = undefined;
    this.#listener = undefined;
    client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#reportAndRetry(cause);
  }

  #reportAndRetry(cause: unknown): void {
    if (this.#closed) return;
    this.#missedSome = true;
    this.#report(
      new ApiKeyError(
        'STORE_UNAVAILABLE',
        'Lost the PostgreSQL LISTEN connection for API key invalidations; reconnecting',
        cause === undefined ? {} : { cause },
      ),
    );
    const wait = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, MAX_RECONNECT_DELAY_MS);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#listen();
    }, wait);
    this.#retry.unref();
  }
}
