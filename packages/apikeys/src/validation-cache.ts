/**
 * The in-process cache behind the validation hot path. It maps the SHA-256 digest of a presented
 * key (never the key) to the state of the key it proved to be, so a hit is one digest, one Map
 * lookup and a few comparisons: no HMAC, no I/O.
 */
import type { LimitSubject } from './limits';
import type { StoredKeyStatus } from './store';
import type { ApiKeyAccepted, ApiKeyRejected, Quota, RateLimit, ValidatedApiKey } from './types';

/** What the hot path needs to decide about a key whose secret has been verified. */
export class KeyState implements LimitSubject {
  readonly keyId: string;
  readonly status: StoredKeyStatus;
  readonly disabled: boolean;
  /** Epoch ms; Infinity when the key does not expire. */
  readonly expiresAt: number;
  /** Epoch ms; Infinity unless the key was rotated. */
  readonly graceEndsAt: number;
  readonly rateLimit: RateLimit | null;
  readonly quota: Quota | null;
  readonly quotaSeedPeriod: number | null;
  readonly quotaSeedUsed: number;
  /** Trusted until then without reading the store again. */
  readonly freshUntil: number;
  /** Set when a revocation, rotation or other change reached this instance. */
  stale = false;
  readonly accepted: ApiKeyAccepted;
  readonly revoked: ApiKeyRejected;
  readonly disabledResult: ApiKeyRejected;
  readonly expired: ApiKeyRejected;
  readonly #scopes: ReadonlySet<string>;
  /** Prefixes granted by wildcard scopes (`workflows:*` → `workflows:`); `''` for `*`. */
  readonly #wildcards: readonly string[];

  constructor(init: {
    key: ValidatedApiKey;
    status: StoredKeyStatus;
    disabled: boolean;
    expiresAt: number | null;
    graceEndsAt: number | null;
    rateLimit: RateLimit | null;
    quota: Quota | null;
    quotaSeedPeriod: number | null;
    quotaSeedUsed: number;
    freshUntil: number;
  }) {
    this.keyId = init.key.keyId;
    this.status = init.status;
    this.disabled = init.disabled;
    this.expiresAt = init.expiresAt ?? Number.POSITIVE_INFINITY;
    this.graceEndsAt = init.graceEndsAt ?? Number.POSITIVE_INFINITY;
    this.rateLimit = init.rateLimit;
    this.quota = init.quota;
    this.quotaSeedPeriod = init.quotaSeedPeriod;
    this.quotaSeedUsed = init.quotaSeedUsed;
    this.freshUntil = init.freshUntil;
    this.accepted = Object.freeze({ valid: true, key: init.key });
    const keyId = this.keyId;
    this.revoked = Object.freeze({ valid: false, reason: 'REVOKED', keyId });
    this.disabledResult = Object.freeze({ valid: false, reason: 'DISABLED', keyId });
    this.expired = Object.freeze({ valid: false, reason: 'EXPIRED', keyId });
    this.#scopes = new Set(init.key.scopes);
    this.#wildcards = init.key.scopes.filter((s) => s.endsWith('*')).map((s) => s.slice(0, -1));
  }

  get limited(): boolean {
    return this.rateLimit !== null || this.quota !== null;
  }

  /** The required scopes this key lacks, or undefined when it holds them all. */
  missingScopes(required: readonly string[]): string[] | undefined {
    let missing: string[] | undefined;
    for (const scope of required) {
      if (this.#scopes.has(scope)) continue;
      if (this.#wildcards.length > 0 && this.#wildcards.some((prefix) => scope.startsWith(prefix))) continue;
      if (missing === undefined) missing = [scope];
      else missing.push(scope);
    }
    return missing;
  }
}

/**
 * An approximate LRU in two generations: lookups hit the young map, or move an entry up from the
 * old one; when the young map fills, the old one is dropped and the young one becomes old. No
 * per-hit reordering, so a hit costs one Map lookup. Entries are also indexed by key id, so a
 * revocation marks the state stale without knowing the key.
 */
export class ValidationCache {
  readonly #half: number;
  #young = new Map<string, KeyState>();
  #old = new Map<string, KeyState>();
  readonly #byKeyId = new Map<string, KeyState>();

  constructor(maxEntries: number) {
    this.#half = Math.max(1, Math.ceil(maxEntries / 2));
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(digest: string): KeyState | undefined {
    const young = this.#young.get(digest);
    if (young !== undefined) return young;
    const old = this.#old.get(digest);
    if (old === undefined) return undefined;
    this.#old.delete(digest);
    if (old.stale) return undefined;
    this.#insert(digest, old);
    return old;
  }

  set(digest: string, state: KeyState): void {
    const previous = this.#byKeyId.get(state.keyId);
    if (previous !== undefined && previous !== state) previous.stale = true;
    this.#byKeyId.set(state.keyId, state);
    this.#old.delete(digest);
    this.#insert(digest, state);
  }

  /** Marks the cached state of `keyId` stale; the next validation of that key reads the store. */
  invalidate(keyId: string): void {
    const state = this.#byKeyId.get(keyId);
    if (state === undefined) return;
    state.stale = true;
    this.#byKeyId.delete(keyId);
  }

  clear(): void {
    for (const state of this.#byKeyId.values()) state.stale = true;
    this.#byKeyId.clear();
    this.#young = new Map();
    this.#old = new Map();
  }

  #insert(digest: string, state: KeyState): void {
    this.#young.set(digest, state);
    if (this.#young.size < this.#half) return;
    for (const [oldDigest, dropped] of this.#old) {
      if (this.#byKeyId.get(dropped.keyId) === dropped && !this.#young.has(oldDigest)) {
        this.#byKeyId.delete(dropped.keyId);
      }
    }
    this.#old = this.#young;
    this.#young = new Map();
  }
}
