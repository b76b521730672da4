import type { HttpExchange, PlatMiddleware } from '@plat/core';
import type { ApiKeyError } from './errors';
import type { EncryptionKey } from './field-encryption';
import type { Pepper } from './secret-hash';
import type { ApiKeyStore } from './store';

export type { EncryptionKey, Pepper };

/** A per-key sliding-window rate limit: at most `limit` validations in any `windowSeconds`. */
export interface RateLimit {
  /** Validations allowed per window (1 to 1,000,000,000). */
  readonly limit: number;
  /** Window length in seconds (1 to 86,400). */
  readonly windowSeconds: number;
}

/**
 * A per-key usage quota: at most `limit` successful validations per period; the allowance refills
 * at every period boundary (periods are aligned to the Unix epoch, so `86400` refills at 00:00 UTC).
 */
export interface Quota {
  /** Validations allowed per period (1 to 1,000,000,000,000). */
  readonly limit: number;
  /** Period length in seconds (60 to 31,622,400, a leap year). */
  readonly periodSeconds: number;
}

/**
 * Where a key stands, computed at read time: `active`; `rotated` (replaced, still valid until
 * `graceEndsAt`); `expired` (past `expiresAt`, or past its rotation grace); `revoked`; `disabled`
 * (reversibly switched off).
 */
export type ApiKeyStatus = 'active' | 'rotated' | 'expired' | 'revoked' | 'disabled';

/** What is known about a key, never including its secret. */
export interface ApiKeyInfo {
  /** Public id (12 base62 characters), the second part of the key. */
  readonly keyId: string;
  readonly prefix: string;
  /** A display form that identifies the key without its secret: `plat_live_4fQ9aB7cD2eF_…`. */
  readonly hint: string;
  readonly ownerId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly status: ApiKeyStatus;
  readonly createdAt: Date;
  /** `null` for a key created with `expiresInDays: null`. */
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  /** Successful validations, including those this instance has not flushed yet. */
  readonly useCount: number;
  readonly disabledAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revokedReason: string | null;
  readonly rotatedAt: Date | null;
  /** Until when a rotated key keeps working (never beyond its own `expiresAt`). */
  readonly graceEndsAt: Date | null;
  /** The key that replaced this one, after a rotation. */
  readonly replacedBy: string | null;
  /** The key this one replaced, when it was created by a rotation. */
  readonly rotatedFrom: string | null;
  readonly rateLimit: RateLimit | null;
  readonly quota: Quota | null;
  /** Whether `reveal()` can return the full key (only with `encryption.recoverableSecrets`). */
  readonly recoverable: boolean;
}

/** A newly issued key: its info plus the full key, which is returned this once and never stored. */
export interface CreatedApiKey extends ApiKeyInfo {
  /** The full key (`<prefix>_<keyId>_<secret>_<checksum>`). Hand it to the owner; it cannot be shown again. */
  readonly key: string;
}

/** Who performs a management call, for the audit trail. */
export interface ActorOptions {
  /**
   * Recorded in the audit trail.
   * @default the principal id of the current request context, else `null`
   */
  actor?: string;
}

/** Input of `create()`. */
export interface CreateApiKeyInput extends ActorOptions {
  /** Who the key belongs to (a user, team or service id); becomes the principal id. 1-200 characters. */
  ownerId: string;
  /** A human label (`CI deploy key`). 1-200 characters. */
  name: string;
  /**
   * Scopes granted (`workflows:read`). A scope ending in `*` grants every scope with that prefix
   * (`workflows:*`), and `*` grants all. Up to 100 scopes of 1-100 characters `[A-Za-z0-9_.:/*-]`.
   * @default []
   */
  scopes?: readonly string[];
  /**
   * Lifetime in days (fractions allowed, up to 3,650); `null` for a key that never expires.
   * @default the manager's `defaultExpiresInDays` (90)
   */
  expiresInDays?: number | null;
  /**
   * Free-form JSON object kept with the key (at most 8 KiB serialised). Never put secrets here
   * unless `encryption` is on.
   * @default {}
   */
  metadata?: Readonly<Record<string, unknown>>;
  /** Per-key rate limit. @default none */
  rateLimit?: RateLimit | null;
  /** Per-key usage quota with periodic refill. @default none */
  quota?: Quota | null;
}

/** Options of `rotate()`. */
export interface RotateApiKeyOptions extends ActorOptions {
  /**
   * How long the old key keeps working, in seconds (0 ends it at once). It never works beyond its
   * own original expiry.
   * @default the manager's `defaultGraceSeconds` (86,400: one day)
   */
  graceSeconds?: number;
  /**
   * Lifetime of the new key in days; `null` for no expiry.
   * @default the old key's own lifetime (expiresAt − createdAt), or no expiry if it had none
   */
  expiresInDays?: number | null;
}

/** Options of `revoke()`, `disable()` and `enable()`. */
export interface KeyChangeOptions extends ActorOptions {
  /** Why, recorded in the audit trail (at most 500 characters). @default null */
  reason?: string;
}

/** Options of `list()`. */
export interface ListApiKeysOptions {
  /**
   * Include revoked keys and keys rotated out of their grace or expired.
   * @default false
   */
  includeInactive?: boolean;
  /** At most this many keys, newest first (1 to 1,000). @default 100 */
  limit?: number;
}

/** Options of `validate()`. */
export interface ValidateOptions {
  /** Scopes the key must hold, all of them. @default [] */
  requiredScopes?: readonly string[];
}

/** Why `validate()` rejected a key. */
export type ApiKeyRejectionReason =
  | 'MALFORMED'
  | 'NOT_FOUND'
  | 'REVOKED'
  | 'EXPIRED'
  | 'INSUFFICIENT_SCOPE'
  | 'DISABLED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED';

/** The identity a valid key carries; the same object for every hit of a cached key (frozen). */
export interface ValidatedApiKey {
  readonly keyId: string;
  readonly ownerId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A key that passed every check. */
export interface ApiKeyAccepted {
  readonly valid: true;
  readonly key: ValidatedApiKey;
}

/** A key that failed a check, with the reason code. */
export interface ApiKeyRejected {
  readonly valid: false;
  readonly reason: ApiKeyRejectionReason;
  /** The key id when the key was well formed (public; never the secret). */
  readonly keyId?: string;
  /** For `RATE_LIMITED` and `QUOTA_EXCEEDED`: when to try again. */
  readonly retryAfterSeconds?: number;
  /** For `INSUFFICIENT_SCOPE`: the required scopes the key lacks. */
  readonly missingScopes?: readonly string[];
}

/** The typed outcome of `validate()`. */
export type ApiKeyValidation = ApiKeyAccepted | ApiKeyRejected;

/** Lifecycle changes recorded in the audit trail. */
export type AuditAction =
  | 'created'
  | 'rotated'
  | 'revoked'
  | 'disabled'
  | 'enabled'
  | 'rehashed'
  | 'revealed';

/** One entry of the audit trail. */
export interface AuditEvent {
  readonly keyId: string;
  readonly ownerId: string;
  readonly action: AuditAction;
  readonly actor: string | null;
  readonly reason: string | null;
  readonly at: Date;
  /** Non-secret facts: `{ replacedBy, graceEndsAt }` for a rotation, `{ rotatedFrom }` for its new key. */
  readonly details: Readonly<Record<string, unknown>> | null;
}

/** What the auto-rotation hook receives for each key it rotated. */
export interface AutoRotatedKey {
  readonly ownerId: string;
  /** The key that was rotated; it keeps working until `graceEndsAt`. */
  readonly previousKeyId: string;
  readonly graceEndsAt: Date;
  /** The new key, including the full key string: deliver it to the owner, it is not stored. */
  readonly newKey: CreatedApiKey;
}

/** Automatic rotation of keys approaching expiry. */
export interface AutoRotationOptions {
  /** Rotate keys that expire within this many days. @default 7 */
  withinDays?: number;
  /** Grace of the rotated keys, in seconds (capped at their expiry as always). @default 86400 */
  graceSeconds?: number;
  /** How often to look for such keys, in seconds; `0` disables the timer (call `runAutoRotation()`). @default 3600 */
  intervalSeconds?: number;
  /**
   * Told about each rotated key, with the new full key: notify the owner. Called once per key, by
   * the one instance that won the rotation. A throwing hook is reported through `onError`.
   */
  onRotated: (rotated: AutoRotatedKey) => void | Promise<void>;
}

/** The in-process validation cache. */
export interface ValidationCacheOptions {
  /** Keys kept (an approximate LRU of two generations). @default 10000 */
  maxEntries?: number;
  /**
   * Longest a cached validation is trusted without reading the store again, in seconds: the bound
   * on how late a revocation takes effect if a Redis signal is lost. Revocations are otherwise
   * applied within milliseconds.
   * @default 60
   */
  ttlSeconds?: number;
}

/** Batched usage tracking (last used time, use count, quota usage). */
export interface UsageOptions {
  /** Write accumulated usage this often, in milliseconds. @default 5000 */
  flushIntervalMs?: number;
  /** Flush early once this many distinct keys have unwritten usage. @default 10000 */
  maxPendingKeys?: number;
}

/** Optional AES-256-GCM encryption at rest for key metadata and (opt-in) a recoverable secret. */
export interface EncryptionOptions {
  /** Data keys; the first encrypts, all decrypt (list old keys after a key rotation). */
  keys: readonly EncryptionKey[];
  /**
   * Also keep an encrypted copy of each new key so `reveal()` can return it. The hash stays the
   * only thing validation uses. Leave off unless you must show keys again.
   * @default false
   */
  recoverableSecrets?: boolean;
}

/** The subscriber connection `duplicate()` returns (a node-redis v5 client or cluster). */
export interface ApiKeyRedisSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  close(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * The part of a node-redis v5 client (`createClient()` or `createCluster()`, connected) the manager
 * uses: publishing invalidations, running the rate-limit script, and one duplicate for subscribing.
 */
export interface ApiKeyRedis {
  readonly isReady?: boolean;
  publish(channel: string, message: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  duplicate(): ApiKeyRedisSubscriber;
}

/**
 * How lifecycle changes (revoke, rotate, disable, enable) reach the other instances, so each drops
 * its cached state for the key. Built in: Redis pub/sub (with `redis`) and PostgreSQL LISTEN /
 * NOTIFY (`createPostgresInvalidationSignal()`, and `createPostgresKeyStore()`'s own).
 */
export interface InvalidationSignal {
  /**
   * Starts listening. `onKeyId('*')` means drop every cached key (the signal may have missed
   * messages). Failures go to `report`, never thrown: validation keeps working without the signal.
   */
  start(onKeyId: (keyId: string) => void, report: (error: ApiKeyError) => void): Promise<void>;
  /** Tells every instance to drop `keyId`. May reject; the manager reports it and carries on. */
  publish(keyId: string): Promise<void>;
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
}

/** Options of `createApiKeyManager()`. */
export interface ApiKeyManagerOptions {
  /** Where keys and the audit trail live: `createKyselyKeyStore()`, `createSqliteKeyStore()`, ... */
  store: ApiKeyStore;
  /**
   * Server-side secrets for the HMAC of key secrets, each `{ id, secret }` of at least 32 bytes. The
   * first hashes new keys; the others still verify keys hashed under them (which are re-hashed under
   * the first on their next validation). Keep them out of the database.
   */
  peppers: readonly Pepper[];
  /** Prefix of new keys: one to three lower-case segments joined by `_`. @default 'plat_live' */
  prefix?: string;
  /** Lifetime of new keys in days; `null` for no expiry. @default 90 */
  defaultExpiresInDays?: number | null;
  /** Grace of `rotate()` when the call gives none, in seconds. @default 86400 */
  defaultGraceSeconds?: number;
  /** Run the store's migrations before the first operation. @default true */
  migrate?: boolean;
  /** The in-process validation cache, or `false` to read the store on every validation. @default {} */
  cache?: ValidationCacheOptions | false;
  /**
   * A connected node-redis v5 client: revocations and rotations reach every instance through
   * pub/sub, and rate limits and quotas are shared. Without it both are in-process.
   * @default none
   */
  redis?: ApiKeyRedis;
  /** Prefix of the Redis channel and keys. @default 'plat:apikeys:' */
  redisKeyPrefix?: string;
  /**
   * How revocations and rotations reach other instances; `false` for none (a single process).
   * @default Redis pub/sub with `redis`, else the store's own signal (`createPostgresKeyStore()`
   * listens with PostgreSQL LISTEN / NOTIFY), else none
   */
  invalidation?: InvalidationSignal | false;
  /** Batched usage tracking. @default {} */
  usage?: UsageOptions;
  /** Encrypt names and metadata at rest (and, opt-in, a recoverable secret). @default none */
  encryption?: EncryptionOptions;
  /** Rotate keys approaching expiry and tell their owners. @default none */
  autoRotation?: AutoRotationOptions;
  /** Milliseconds since the epoch; inject one to test expiry. @default Date.now */
  clock?: () => number;
  /**
   * Told about background failures (usage flush, Redis, re-hashing, hooks). Errors never carry a
   * key or secret.
   * @default emits a process warning
   */
  onError?: (error: ApiKeyError) => void;
}

/** An API key manager: issue, validate, rotate, revoke and inspect keys. */
export interface ApiKeyManager {
  /** Issues a key; the returned `key` is the only time the full key is available. */
  create(input: CreateApiKeyInput): Promise<CreatedApiKey>;
  /**
   * Checks a presented key: shape and checksum (no I/O), then the cache or the store, status,
   * expiry, scopes and limits. Rejections are results, not errors; only a failing store throws.
   */
  validate(key: unknown, options?: ValidateOptions): Promise<ApiKeyValidation>;
  /**
   * Like `validate()`, but answers synchronously when it can (a cached key with no Redis-shared
   * limit), returning a promise only when it must wait. For middleware and hot loops.
   */
  check(key: unknown, options?: ValidateOptions): ApiKeyValidation | Promise<ApiKeyValidation>;
  /** Replaces a key: same owner, name, scopes, metadata and limits; the old one works until the grace ends. */
  rotate(keyId: string, options?: RotateApiKeyOptions): Promise<CreatedApiKey>;
  /** Revokes a key (also a rotated one still in grace), everywhere, at once. */
  revoke(keyId: string, reason?: string, options?: ActorOptions): Promise<ApiKeyInfo>;
  /** Switches an active key off until `enable()`. */
  disable(keyId: string, options?: KeyChangeOptions): Promise<ApiKeyInfo>;
  enable(keyId: string, options?: KeyChangeOptions): Promise<ApiKeyInfo>;
  /** An owner's keys, newest first. */
  list(ownerId: string, options?: ListApiKeysOptions): Promise<ApiKeyInfo[]>;
  /** One key's info, or `undefined`. */
  get(keyId: string): Promise<ApiKeyInfo | undefined>;
  /** The full key again; only for keys created with `encryption.recoverableSecrets`. */
  reveal(keyId: string, options?: ActorOptions): Promise<string>;
  /** The lifecycle changes of a key, oldest first. */
  auditTrail(keyId: string): Promise<AuditEvent[]>;
  /** Rotates every key due under `autoRotation` now, returning what was rotated. */
  runAutoRotation(): Promise<AutoRotatedKey[]>;
  /** Writes pending usage now. */
  flush(): Promise<void>;
  /** Resolves once migrations ran and the invalidation signal (Redis or PostgreSQL) is attempted. */
  ready(): Promise<void>;
  /** Stops timers, flushes usage, unsubscribes. The store and Redis client you passed stay open. */
  close(): Promise<void>;
}

/** Options of `requireApiKey()` / `apiKeyMiddleware()`. */
export interface RequireApiKeyOptions {
  /** Scopes the key must hold, all of them. @default [] */
  scopes?: readonly string[];
  /**
   * Let requests without any key through unauthenticated (a key that is present must still be
   * valid). For routes that serve more to authenticated callers.
   * @default false
   */
  optional?: boolean;
  /**
   * Request headers read for the key, in order: `authorization` takes `Bearer <key>`, any other
   * header the bare key.
   * @default ['authorization', 'x-api-key']
   */
  headers?: readonly string[];
  /** Tenant of the principal, from the validated key (for example a metadata field). @default none */
  tenantOf?: (key: ValidatedApiKey) => string | undefined;
  /** Skip the check for some requests (health probes, say). @default none */
  skip?: (exchange: HttpExchange) => boolean;
}

/** Options of `apiKeyRoutes()` and the adapters' `apiKeyRouter()`. */
export interface ApiKeyRoutesOptions {
  /** Scope a caller's key must hold to use the routes. @default 'api-keys:admin' */
  adminScope?: string;
  /** Replaces the default guard (`requireApiKey` with `adminScope`), for example with a session check. */
  guard?: PlatMiddleware;
  /** Path prefix of the routes. @default '' (so `/api-keys`) */
  prefix?: string;
}
