/**
 * The API key manager: issuing, validating, rotating and revoking keys. The validation hot path is
 * `check()`: a digest and a cache lookup on a hit; shape, checksum, store read and HMAC on a miss.
 */
import { currentContext } from '@plat/core';
import { ApiKeyError } from './errors';
import { FieldCipher } from './field-encryption';
import * as input from './input';
import { ALL_KEYS, RedisInvalidationSignal } from './invalidation-channel';
import {
  formatApiKey,
  generateKeyId,
  isKeyId,
  isValidPrefix,
  MAX_KEY_LENGTH,
  parseApiKey,
  randomBase62,
  SECRET_LENGTH,
} from './key-format';
import { type Limiter, type LimitRejection, MemoryLimiter, RedisLimiter } from './limits';
import { cacheDigest, PepperRing } from './secret-hash';
import type { ApiKeyStore, AuditEntry, StoredApiKey, StoredKeyStatus } from './store';
import type {
  ActorOptions,
  ApiKeyInfo,
  ApiKeyManager,
  ApiKeyManagerOptions,
  ApiKeyRejected,
  ApiKeyStatus,
  ApiKeyValidation,
  AuditEvent,
  AutoRotatedKey,
  CreateApiKeyInput,
  CreatedApiKey,
  InvalidationSignal,
  KeyChangeOptions,
  ListApiKeysOptions,
  RotateApiKeyOptions,
  ValidatedApiKey,
  ValidateOptions,
} from './types';
import { UsageRecorder } from './usage-recorder';
import { KeyState, ValidationCache } from './validation-cache';

const DAY_MS = 24 * 3600 * 1000;
const PUBLISH_TIMEOUT_MS = 1000;
const MALFORMED: ApiKeyRejected = Object.freeze({ valid: false, reason: 'MALFORMED' });

function positive(value: unknown, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new ApiKeyError('INVALID_OPTIONS', `${name} must be a positive number (at most ${max})`);
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function defaultReport(error: ApiKeyError): void {
  process.emitWarning(`${error.name} ${error.code}: ${error.message}`, { code: 'PLAT_APIKEYS' });
}

/**
 * Creates an API key manager over a store.
 *
 * @example
 * ```ts
 * const keys = createApiKeyManager({
 *   store: createSqliteKeyStore({ filename: './api-keys.db' }),
 *   peppers: [{ id: 'p1', secret: process.env.API_KEY_PEPPER! }],
 * });
 * const { key } = await keys.create({ ownerId: 'user_1', name: 'CI', scopes: ['workflows:read'] });
 * const result = await keys.validate(key, { requiredScopes: ['workflows:read'] }); // { valid: true, ... }
 * ```
 */
export function createApiKeyManager(options: ApiKeyManagerOptions): ApiKeyManager {
  return new Manager(options);
}

class Manager implements ApiKeyManager {
  readonly #store: ApiKeyStore;
  readonly #peppers: PepperRing;
  readonly #prefix: string;
  readonly #defaultLifetimeMs: number | null;
  readonly #defaultGraceMs: number;
  readonly #clock: () => number;
  readonly #report: (error: ApiKeyError) => void;
  readonly #cache: ValidationCache | undefined;
  readonly #ttlMs: number;
  readonly #limiter: Limiter;
  readonly #usage: UsageRecorder;
  readonly #cipher: FieldCipher | undefined;
  readonly #recoverable: boolean;
  readonly #signal: InvalidationSignal | undefined;
  readonly #autoRotation: ApiKeyManagerOptions['autoRotation'];
  readonly #timers: NodeJS.Timeout[] = [];
  /** Loads in flight, by digest: concurrent misses of one key read the store once. */
  readonly #inflight = new Map<string, Promise<KeyState | ApiKeyRejected>>();
  /** Validations still waiting on the store or Redis; `close()` waits for them before the last flush. */
  readonly #waiting = new Set<Promise<unknown>>();
  readonly #rehashing = new Set<string>();
  /** Bumped by every invalidation; a load that saw it change does not cache what it read. */
  #epoch = 0;
  readonly #migrate: boolean;
  #subscribed: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #closed = false;

  constructor(options: ApiKeyManagerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ApiKeyError('INVALID_OPTIONS', 'createApiKeyManager needs an options object');
    }
    const store = options.store;
    if (typeof store?.find !== 'function' || typeof store.insert !== 'function') {
      throw new ApiKeyError('INVALID_OPTIONS', 'store must be an ApiKeyStore (createKyselyKeyStore(), ...)');
    }
    this.#store = store;
    this.#peppers = new PepperRing(options.peppers);
    this.#prefix = options.prefix ?? 'plat_live';
    if (typeof this.#prefix !== 'string' || !isValidPrefix(this.#prefix)) {
      throw new ApiKeyError(
        'INVALID_OPTIONS',
        'prefix must be one to three segments of a lower-case letter then up to 15 of [a-z0-9], joined by _',
      );
    }
    const days = options.defaultExpiresInDays;
    this.#defaultLifetimeMs =
      days === null ? null : positive(days, 'defaultExpiresInDays', 90, input.MAX_EXPIRES_IN_DAYS) * DAY_MS;
    this.#defaultGraceMs =
      (options.defaultGraceSeconds === 0
        ? 0
        : positive(options.defaultGraceSeconds, 'defaultGraceSeconds', 86_400, input.MAX_GRACE_SECONDS)) *
      1000;
    this.#clock = options.clock ?? Date.now;
    if (typeof this.#clock !== 'function')
      throw new ApiKeyError('INVALID_OPTIONS', 'clock must be a function');
    const onError = options.onError ?? defaultReport;
    this.#report = (error) => {
      try {
        onError(error);
      } catch {
        // A failing error hook must not take validation down with it.
      }
    };
    if (options.cache === false) {
      this.#cache = undefined;
      this.#ttlMs = 0;
    } else {
      const cache = options.cache ?? {};
      this.#cache = new ValidationCache(positive(cache.maxEntries, 'cache.maxEntries', 10_000));
      this.#ttlMs = positive(cache.ttlSeconds, 'cache.ttlSeconds', 60, 86_400) * 1000;
    }
    const usage = options.usage ?? {};
    const flushIntervalMs = positive(usage.flushIntervalMs, 'usage.flushIntervalMs', 5000);
    this.#usage = new UsageRecorder(
      store,
      positive(usage.maxPendingKeys, 'usage.maxPendingKeys', 10_000),
      this.#report,
    );
    if (options.encryption !== undefined) {
      this.#cipher = new FieldCipher(options.encryption.keys);
      this.#recoverable = options.encryption.recoverableSecrets === true;
    } else {
      this.#cipher = undefined;
      this.#recoverable = false;
    }
    const redisPrefix = options.redisKeyPrefix ?? 'plat:apikeys:';
    if (options.redis !== undefined) {
      const redis = options.redis;
      if (typeof redis.publish !== 'function' || typeof redis.duplicate !== 'function') {
        throw new ApiKeyError('INVALID_OPTIONS', 'redis must be a connected node-redis v5 client');
      }
      this.#limiter = new RedisLimiter(redis, redisPrefix, this.#report);
    } else {
      this.#limiter = new MemoryLimiter();
    }
    const invalidation = options.invalidation;
    if (invalidation === false) this.#signal = undefined;
    else if (invalidation !== undefined) {
      if (typeof invalidation?.start !== 'function' || typeof invalidation.publish !== 'function') {
        throw new ApiKeyError('INVALID_OPTIONS', 'invalidation must be an InvalidationSignal or false');
      }
      this.#signal = invalidation;
    } else if (options.redis !== undefined) {
      this.#signal = new RedisInvalidationSignal(options.redis, redisPrefix);
    } else {
      this.#signal = store.invalidationSignal?.();
    }
    this.#autoRotation = options.autoRotation;
    if (this.#autoRotation !== undefined) {
      if (typeof this.#autoRotation.onRotated !== 'function') {
        throw new ApiKeyError(
          'INVALID_OPTIONS',
          'autoRotation.onRotated must be a function: it delivers the new keys',
        );
      }
      positive(this.#autoRotation.withinDays, 'autoRotation.withinDays', 7, input.MAX_EXPIRES_IN_DAYS);
      if (this.#autoRotation.graceSeconds !== undefined)
        input.graceMs(this.#autoRotation.graceSeconds, 'autoRotation.graceSeconds');
    }

    this.#migrate = options.migrate ?? true;
    this.#every(flushIntervalMs, () => {
      this.#limiter.prune(this.#clock());
      return this.flush();
    });
    const interval = this.#autoRotation?.intervalSeconds ?? 3600;
    if (this.#autoRotation !== undefined && interval !== 0) {
      this.#every(positive(interval, 'autoRotation.intervalSeconds', 3600) * 1000, () =>
        this.runAutoRotation(),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Validation
  // ---------------------------------------------------------------------------------------------

  validate(key: unknown, options?: ValidateOptions): Promise<ApiKeyValidation> {
    try {
      const outcome = this.check(key, options);
      return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  check(key: unknown, options?: ValidateOptions): ApiKeyValidation | Promise<ApiKeyValidation> {
    if (this.#closed) throw new ApiKeyError('CLOSED', 'The API key manager was closed');
    if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH) return MALFORMED;
    const digest = cacheDigest(key);
    const now = this.#clock();
    const state = this.#cache?.get(digest);
    if (state !== undefined && !state.stale && now < state.freshUntil) {
      return this.#decide(state, now, options?.requiredScopes);
    }
    // Only well-formed keys with a correct checksum go further: a typo or random string costs no I/O.
    const parsed = parseApiKey(key);
    if (parsed === undefined) return MALFORMED;
    let load = this.#inflight.get(digest);
    if (load === undefined) {
      load = this.#load(parsed.keyId, parsed.body, digest);
      this.#inflight.set(digest, load);
      const done = () => this.#inflight.delete(digest);
      load.then(done, done);
    }
    const required = options?.requiredScopes;
    return this.#track(
      load.then((outcome) =>
        outcome instanceof KeyState ? this.#decide(outcome, this.#clock(), required) : outcome,
      ),
    );
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#waiting.add(promise);
    const done = () => this.#waiting.delete(promise);
    promise.then(done, done);
    return promise;
  }

  #decide(
    state: KeyState,
    now: number,
    required: readonly string[] | undefined,
  ): ApiKeyValidation | Promise<ApiKeyValidation> {
    if (state.status === 'revoked') return state.revoked;
    if (state.disabled) return state.disabledResult;
    if (now >= state.expiresAt || now >= state.graceEndsAt) return state.expired;
    if (required !== undefined && required.length > 0) {
      const missing = state.missingScopes(required);
      if (missing !== undefined) {
        return { valid: false, reason: 'INSUFFICIENT_SCOPE', keyId: state.keyId, missingScopes: missing };
      }
    }
    if (state.limited) {
      const limit = this.#limiter.consume(state, now);
      if (limit instanceof Promise)
        return this.#track(limit.then((verdict) => this.#afterLimit(state, now, verdict)));
      return this.#afterLimit(state, now, limit);
    }
    this.#usage.record(state.keyId, state.quota, now);
    return state.accepted;
  }

  #afterLimit(state: KeyState, now: number, verdict: LimitRejection | undefined): ApiKeyValidation {
    if (verdict !== undefined) {
      return {
        valid: false,
        reason: verdict.reason,
        keyId: state.keyId,
        retryAfterSeconds: Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)),
      };
    }
    this.#usage.record(state.keyId, state.quota, now);
    return state.accepted;
  }

  async #load(keyId: string, body: string, digest: string): Promise<KeyState | ApiKeyRejected> {
    await this.#ensureStarted();
    const epoch = this.#epoch;
    const row = await this.#store.find(keyId);
    const notFound: ApiKeyRejected = { valid: false, reason: 'NOT_FOUND', keyId };
    if (row === undefined) return notFound;
    if (!this.#peppers.has(row.pepperId)) {
      this.#report(
        new ApiKeyError(
          'INVALID_STATE',
          `Key ${keyId} is hashed with pepper "${row.pepperId}", which is no longer configured; it cannot validate`,
        ),
      );
      return notFound;
    }
    if (!this.#peppers.verify(body, row.secretHash, row.pepperId)) return notFound;
    if (row.pepperId !== this.#peppers.current) this.#rehash(row, body);
    const state = this.#stateOf(row);
    // A revocation that arrived while we were reading may not be in `row`: use it once, cache it not.
    if (this.#cache !== undefined && epoch === this.#epoch) this.#cache.set(digest, state);
    return state;
  }

  #stateOf(row: StoredApiKey): KeyState {
    const { name, metadata } = this.#open(row);
    const key: ValidatedApiKey = deepFreeze({
      keyId: row.keyId,
      ownerId: row.ownerId,
      name,
      scopes: [...row.scopes],
      expiresAt: dateOrNull(row.expiresAt),
      metadata,
    });
    return new KeyState({
      key,
      status: row.status,
      disabled: row.disabledAt !== null,
      expiresAt: row.expiresAt,
      graceEndsAt: row.status === 'rotated' ? row.graceEndsAt : null,
      rateLimit: row.rateLimit,
      quota: row.quota,
      quotaSeedPeriod: row.quotaPeriod,
      quotaSeedUsed: row.quotaUsed,
      freshUntil: this.#clock() + this.#ttlMs,
    });
  }

  /** Re-hashes a key made under an old pepper, once per key, in the background. */
  #rehash(row: StoredApiKey, body: string): void {
    if (this.#rehashing.has(row.keyId)) return;
    this.#rehashing.add(row.keyId);
    const toHash = this.#peppers.hash(body);
    const audit = this.#audit(row, 'rehashed', { actor: 'pepper-rotation' }, null, {
      fromPepper: row.pepperId,
      toPepper: this.#peppers.current,
    });
    this.#store
      .rehash(row.keyId, row.secretHash, toHash, this.#peppers.current, audit)
      .catch((error: unknown) => this.#report(error as ApiKeyError))
      .finally(() => this.#rehashing.delete(row.keyId));
  }

  #invalidate(keyId: string): void {
    this.#epoch++;
    if (keyId === ALL_KEYS) this.#cache?.clear();
    else this.#cache?.invalidate(keyId);
  }

  /**
   * Drops `keyId` here at once and on every other instance through the signal, waiting at most a
   * second for it: an outage of Redis or of the listener never blocks a revoke.
   */
  async #broadcast(keyId: string): Promise<void> {
    this.#invalidate(keyId);
    const signal = this.#signal;
    if (signal === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        signal.publish(keyId),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PUBLISH_TIMEOUT_MS} ms`)),
            PUBLISH_TIMEOUT_MS,
          );
          timer.unref();
        }),
      ]);
    } catch (cause) {
      this.#report(
        new ApiKeyError(
          'STORE_UNAVAILABLE',
          `Could not publish the invalidation of key ${keyId}; other instances drop it within the cache TTL`,
          { cause },
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  async create(request: CreateApiKeyInput): Promise<CreatedApiKey> {
    this.#assertOpen();
    if (typeof request !== 'object' || request === null) {
      throw new ApiKeyError('INVALID_INPUT', 'create() needs { ownerId, name, ... }', {
        details: { field: 'body' },
      });
    }
    const ownerId = input.text(request.ownerId, 'ownerId');
    const name = input.text(request.name, 'name');
    const scopes = input.scopes(request.scopes);
    const lifetime =
      request.expiresInDays === undefined ? this.#defaultLifetimeMs : input.lifetimeMs(request.expiresInDays);
    const metadata = input.metadataJson(request.metadata);
    const rateLimit = input.rateLimit(request.rateLimit);
    const quota = input.quota(request.quota);
    const actor = input.actor(request.actor);
    await this.#ensureStarted();
    const now = this.#clock();
    const { row, key } = this.#newRow({
      ownerId,
      name,
      scopes,
      metadata,
      rateLimit,
      quota,
      now,
      expiresAt: lifetime === null ? null : now + lifetime,
      rotatedFrom: null,
    });
    await this.#store.insert(row, this.#audit(row, 'created', { actor }, null, null));
    return { ...this.#info(row, now), key };
  }

  #newRow(fields: {
    ownerId: string;
    name: string;
    scopes: string[];
    metadata: string;
    rateLimit: StoredApiKey['rateLimit'];
    quota: StoredApiKey['quota'];
    now: number;
    expiresAt: number | null;
    rotatedFrom: string | null;
  }): { row: StoredApiKey; key: string } {
    const keyId = generateKeyId();
    const secret = randomBase62(SECRET_LENGTH);
    const key = formatApiKey(this.#prefix, keyId, secret);
    const body = key.slice(0, key.lastIndexOf('_'));
    const sealed =
      this.#cipher === undefined
        ? null
        : this.#cipher.encrypt(
            JSON.stringify({ name: fields.name, metadata: JSON.parse(fields.metadata) }),
            `meta:${keyId}`,
          );
    const row: StoredApiKey = {
      keyId,
      prefix: this.#prefix,
      ownerId: fields.ownerId,
      name: sealed === null ? fields.name : '',
      scopes: fields.scopes,
      metadata: sealed === null ? fields.metadata : '{}',
      sealed,
      secretHash: this.#peppers.hash(body),
      pepperId: this.#peppers.current,
      secretSealed:
        this.#recoverable && this.#cipher !== undefined
          ? this.#cipher.encrypt(secret, `secret:${keyId}`)
          : null,
      status: 'active',
      createdAt: fields.now,
      expiresAt: fields.expiresAt,
      disabledAt: null,
      revokedAt: null,
      revokedReason: null,
      rotatedAt: null,
      graceEndsAt: null,
      replacedBy: null,
      rotatedFrom: fields.rotatedFrom,
      lastUsedAt: null,
      useCount: 0,
      rateLimit: fields.rateLimit,
      quota: fields.quota,
      quotaPeriod: null,
      quotaUsed: 0,
    };
    return { row, key };
  }

  async rotate(keyId: string, options: RotateApiKeyOptions = {}): Promise<CreatedApiKey> {
    this.#assertOpen();
    this.#checkKeyId(keyId);
    const grace =
      options.graceSeconds === undefined ? this.#defaultGraceMs : input.graceMs(options.graceSeconds);
    const explicitLifetime =
      options.expiresInDays === undefined ? undefined : input.lifetimeMs(options.expiresInDays);
    const actor = input.actor(options.actor);
    const old = await this.#find(keyId);
    const now = this.#clock();
    const status = this.#statusOf(old, now);
    if (status !== 'active') {
      throw new ApiKeyError('INVALID_STATE', `Key ${keyId} is ${status}; only an active key can be rotated`, {
        details: { status },
      });
    }
    const lifetime =
      explicitLifetime !== undefined
        ? explicitLifetime
        : old.expiresAt === null
          ? null
          : old.expiresAt - old.createdAt;
    const { name, metadata } = this.#open(old);
    const { row, key } = this.#newRow({
      ownerId: old.ownerId,
      name,
      scopes: old.scopes,
      metadata: JSON.stringify(metadata),
      rateLimit: old.rateLimit,
      quota: old.quota,
      now,
      expiresAt: lifetime === null ? null : now + lifetime,
      rotatedFrom: old.keyId,
    });
    // The old key works until the grace ends, and never beyond its own expiry.
    const graceEndsAt = old.expiresAt === null ? now + grace : Math.min(now + grace, old.expiresAt);
    const rotated = await this.#store.rotate(
      keyId,
      { status: 'rotated', rotatedAt: now, graceEndsAt, replacedBy: row.keyId },
      row,
      [
        this.#audit(old, 'rotated', { actor }, null, {
          replacedBy: row.keyId,
          graceEndsAt: new Date(graceEndsAt).toISOString(),
        }),
        this.#audit(row, 'created', { actor }, null, { rotatedFrom: keyId }),
      ],
    );
    if (!rotated) {
      throw new ApiKeyError('INVALID_STATE', `Key ${keyId} was rotated, revoked or disabled meanwhile`, {
        details: { status: 'changed' },
      });
    }
    await this.#broadcast(keyId);
    return { ...this.#info(row, now), key };
  }

  async revoke(keyId: string, reason?: string, options: ActorOptions = {}): Promise<ApiKeyInfo> {
    this.#assertOpen();
    this.#checkKeyId(keyId);
    const why = input.reason(reason);
    const actor = input.actor(options.actor);
    const row = await this.#find(keyId);
    if (row.status !== 'revoked') {
      const now = this.#clock();
      await this.#store.update(
        keyId,
        ['active', 'rotated'],
        { status: 'revoked', revokedAt: now, revokedReason: why },
        this.#audit(row, 'revoked', { actor }, why, null),
      );
    }
    // Broadcast even when it was already revoked: an instance may have missed the first signal.
    await this.#broadcast(keyId);
    return this.#info(await this.#find(keyId), this.#clock());
  }

  async disable(keyId: string, options: KeyChangeOptions = {}): Promise<ApiKeyInfo> {
    return this.#toggle(keyId, true, options);
  }

  async enable(keyId: string, options: KeyChangeOptions = {}): Promise<ApiKeyInfo> {
    return this.#toggle(keyId, false, options);
  }

  async #toggle(keyId: string, disable: boolean, options: KeyChangeOptions): Promise<ApiKeyInfo> {
    this.#assertOpen();
    this.#checkKeyId(keyId);
    const why = input.reason(options.reason);
    const actor = input.actor(options.actor);
    const row = await this.#find(keyId);
    if (row.status === 'revoked') {
      throw new ApiKeyError(
        'INVALID_STATE',
        `Key ${keyId} is revoked; it cannot be ${disable ? 'disabled' : 'enabled'}`,
        {
          details: { status: 'revoked' },
        },
      );
    }
    if ((row.disabledAt !== null) !== disable) {
      const now = this.#clock();
      const changed = await this.#store.update(
        keyId,
        ['active', 'rotated'],
        { disabledAt: disable ? now : null },
        this.#audit(row, disable ? 'disabled' : 'enabled', { actor }, why, null),
      );
      if (!changed) throw new ApiKeyError('INVALID_STATE', `Key ${keyId} was revoked meanwhile`);
      await this.#broadcast(keyId);
    }
    return this.#info(await this.#find(keyId), this.#clock());
  }

  async list(ownerId: string, options: ListApiKeysOptions = {}): Promise<ApiKeyInfo[]> {
    this.#assertOpen();
    const owner = input.text(ownerId, 'ownerId');
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ApiKeyError('INVALID_INPUT', 'limit must be an integer in [1, 1000]', {
        details: { field: 'limit' },
      });
    }
    const includeInactive = options.includeInactive === true;
    await this.#ensureStarted();
    const statuses: StoredKeyStatus[] = includeInactive
      ? ['active', 'rotated', 'revoked']
      : ['active', 'rotated'];
    const rows = await this.#store.listByOwner({ ownerId: owner, statuses, limit });
    const now = this.#clock();
    const infos = rows.map((row) => this.#info(row, now));
    return includeInactive ? infos : infos.filter((info) => info.status !== 'expired');
  }

  async get(keyId: string): Promise<ApiKeyInfo | undefined> {
    this.#assertOpen();
    if (!isKeyId(keyId)) return undefined;
    await this.#ensureStarted();
    const row = await this.#store.find(keyId);
    return row === undefined ? undefined : this.#info(row, this.#clock());
  }

  async reveal(keyId: string, options: ActorOptions = {}): Promise<string> {
    this.#assertOpen();
    this.#checkKeyId(keyId);
    const actor = input.actor(options.actor);
    const row = await this.#find(keyId);
    if (row.secretSealed === null || this.#cipher === undefined) {
      throw new ApiKeyError(
        'INVALID_STATE',
        `Key ${keyId} is not recoverable: only its hash is stored (enable encryption.recoverableSecrets for new keys)`,
      );
    }
    const secret = this.#cipher.decrypt(row.secretSealed, `secret:${keyId}`);
    await this.#store.appendAudit(this.#audit(row, 'revealed', { actor }, null, null));
    return formatApiKey(row.prefix, row.keyId, secret);
  }

  async auditTrail(keyId: string): Promise<AuditEvent[]> {
    this.#assertOpen();
    this.#checkKeyId(keyId);
    await this.#ensureStarted();
    return this.#store.auditTrail(keyId);
  }

  async runAutoRotation(): Promise<AutoRotatedKey[]> {
    const policy = this.#autoRotation;
    if (policy === undefined || this.#closed) return [];
    await this.#ensureStarted();
    const withinMs = (policy.withinDays ?? 7) * DAY_MS;
    const graceSeconds = policy.graceSeconds ?? 86_400;
    const rotated: AutoRotatedKey[] = [];
    const seen = new Set<string>();
    for (;;) {
      const now = this.#clock();
      const due = (await this.#store.dueForRotation(now, now + withinMs, 100)).filter(
        (row) => !seen.has(row.keyId),
      );
      if (due.length === 0 || this.#closed) break;
      for (const row of due) {
        seen.add(row.keyId);
        // A key whose whole lifetime fits in the window would be due again at once: leave it.
        if (row.expiresAt !== null && row.expiresAt - row.createdAt <= withinMs) continue;
        let newKey: CreatedApiKey;
        try {
          newKey = await this.rotate(row.keyId, { graceSeconds, actor: 'auto-rotation' });
        } catch (error) {
          // Another instance rotated it first, or it changed meanwhile: not ours to announce.
          if (!(error instanceof ApiKeyError && error.code === 'INVALID_STATE'))
            this.#report(error as ApiKeyError);
          continue;
        }
        const event: AutoRotatedKey = {
          ownerId: row.ownerId,
          previousKeyId: row.keyId,
          graceEndsAt: new Date(
            Math.min(now + graceSeconds * 1000, row.expiresAt ?? Number.POSITIVE_INFINITY),
          ),
          newKey,
        };
        rotated.push(event);
        try {
          await policy.onRotated(event);
        } catch (cause) {
          this.#report(
            new ApiKeyError('INVALID_STATE', `autoRotation.onRotated failed for key ${row.keyId}`, { cause }),
          );
        }
      }
    }
    return rotated;
  }

  // ---------------------------------------------------------------------------------------------
  // Running
  // ---------------------------------------------------------------------------------------------

  flush(): Promise<void> {
    return this.#usage.flush();
  }

  ready(): Promise<void> {
    return this.#ensureStarted();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    // Validations already past the door still count: wait for them, then write everything.
    await Promise.allSettled([...this.#waiting]);
    try {
      // A failed final write is reported and rethrown: the caller must know usage was lost.
      await this.#usage.flush();
    } finally {
      await this.#signal?.close();
    }
  }

  #ensureStarted(): Promise<void> {
    if (this.#started === undefined) {
      // Subscribe once; a failed migration is retried by the next call rather than remembered.
      this.#subscribed ??=
        this.#signal?.start((keyId) => this.#invalidate(keyId), this.#report) ?? Promise.resolve();
      const migrated = this.#migrate ? this.#store.migrate() : Promise.resolve();
      const started = Promise.all([migrated, this.#subscribed]).then(() => undefined);
      this.#started = started;
      started.catch(() => {
        if (this.#started === started) this.#started = undefined;
      });
    }
    return this.#started;
  }

  #every(intervalMs: number, task: () => Promise<unknown>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.#closed) return;
      running = true;
      task()
        .catch(() => {
          // Failures were reported where they happened.
        })
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ApiKeyError('CLOSED', 'The API key manager was closed');
  }

  #checkKeyId(keyId: unknown): void {
    if (!isKeyId(keyId)) {
      throw new ApiKeyError('INVALID_INPUT', 'keyId must be 12 base62 characters (the id part of a key)', {
        details: { field: 'keyId' },
      });
    }
  }

  async #find(keyId: string): Promise<StoredApiKey> {
    await this.#ensureStarted();
    const row = await this.#store.find(keyId);
    if (row === undefined) throw new ApiKeyError('KEY_NOT_FOUND', `No API key with id ${keyId}`);
    return row;
  }

  #open(row: StoredApiKey): { name: string; metadata: Record<string, unknown> } {
    if (row.sealed !== null && this.#cipher === undefined) {
      throw new ApiKeyError(
        'INVALID_STATE',
        `Key ${row.keyId} has encrypted metadata but no encryption keys are configured`,
      );
    }
    let opened: { name: string; metadata: Record<string, unknown> };
    try {
      opened =
        row.sealed === null
          ? { name: row.name, metadata: JSON.parse(row.metadata) as Record<string, unknown> }
          : (JSON.parse(this.#cipher!.decrypt(row.sealed, `meta:${row.keyId}`)) as typeof opened);
    } catch (cause) {
      if (cause instanceof ApiKeyError) throw cause;
      throw new ApiKeyError('INVALID_STATE', `The stored metadata of key ${row.keyId} is not valid JSON`, {
        cause,
      });
    }
    return opened;
  }

  #statusOf(row: StoredApiKey, now: number): ApiKeyStatus {
    if (row.status === 'revoked') return 'revoked';
    if (row.disabledAt !== null) return 'disabled';
    if (row.expiresAt !== null && now >= row.expiresAt) return 'expired';
    if (row.status === 'rotated')
      return row.graceEndsAt !== null && now < row.graceEndsAt ? 'rotated' : 'expired';
    return 'active';
  }

  #info(row: StoredApiKey, now: number): ApiKeyInfo {
    const { name, metadata } = this.#open(row);
    const pending = this.#usage.pendingFor(row.keyId);
    const lastUsedAt = Math.max(row.lastUsedAt ?? 0, pending.lastUsedAt);
    return {
      keyId: row.keyId,
      prefix: row.prefix,
      hint: `${row.prefix}_${row.keyId}_…`,
      ownerId: row.ownerId,
      name,
      scopes: row.scopes,
      metadata,
      status: this.#statusOf(row, now),
      createdAt: new Date(row.createdAt),
      expiresAt: dateOrNull(row.expiresAt),
      lastUsedAt: lastUsedAt === 0 ? null : new Date(lastUsedAt),
      useCount: row.useCount + pending.uses,
      disabledAt: dateOrNull(row.disabledAt),
      revokedAt: dateOrNull(row.revokedAt),
      revokedReason: row.revokedReason,
      rotatedAt: dateOrNull(row.rotatedAt),
      graceEndsAt: dateOrNull(row.graceEndsAt),
      replacedBy: row.replacedBy,
      rotatedFrom: row.rotatedFrom,
      rateLimit: row.rateLimit,
      quota: row.quota,
      recoverable: row.secretSealed !== null,
    };
  }

  #audit(
    row: StoredApiKey,
    action: AuditEntry['action'],
    options: { actor?: string | undefined },
    reason: string | null,
    details: Record<string, unknown> | null,
  ): AuditEntry {
    return {
      keyId: row.keyId,
      ownerId: row.ownerId,
      action,
      actor: options.actor ?? currentContext()?.principal?.id ?? null,
      reason,
      at: this.#clock(),
      details,
    };
  }
}
