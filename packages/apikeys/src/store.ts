/**
 * The storage contract of the manager. `createKyselyKeyStore()` implements it over PostgreSQL and
 * SQLite; another backend only has to honour the same conditional updates.
 */
import type { AuditAction, AuditEvent, InvalidationSignal, Quota, RateLimit } from './types';

/** Lifecycle state as stored; `expired` and `disabled` are derived from times at read. */
export type StoredKeyStatus = 'active' | 'rotated' | 'revoked';

/** A key row. Times are epoch milliseconds. No field ever holds the secret in clear. */
export interface StoredApiKey {
  keyId: string;
  prefix: string;
  ownerId: string;
  /** Empty when `sealed` holds the name (encryption on). */
  name: string;
  scopes: string[];
  /** JSON object text; `{}` when `sealed` holds the metadata. */
  metadata: string;
  /** AES-256-GCM of `{ name, metadata }` when encryption is on, else null. */
  sealed: string | null;
  /** HMAC-SHA-256 (base64url) of everything before the checksum, under pepper `pepperId`. */
  secretHash: string;
  pepperId: string;
  /** AES-256-GCM of the secret, only with `recoverableSecrets`. */
  secretSealed: string | null;
  status: StoredKeyStatus;
  createdAt: number;
  expiresAt: number | null;
  disabledAt: number | null;
  revokedAt: number | null;
  revokedReason: string | null;
  rotatedAt: number | null;
  graceEndsAt: number | null;
  replacedBy: string | null;
  rotatedFrom: string | null;
  lastUsedAt: number | null;
  useCount: number;
  rateLimit: RateLimit | null;
  quota: Quota | null;
  /** Start (epoch ms) of the quota period `quotaUsed` counts, or null. */
  quotaPeriod: number | null;
  quotaUsed: number;
}

/** An audit entry to append; `at` in epoch milliseconds. */
export interface AuditEntry {
  keyId: string;
  ownerId: string;
  action: AuditAction;
  actor: string | null;
  reason: string | null;
  at: number;
  details: Record<string, unknown> | null;
}

/** Accumulated usage of one key since the last flush. */
export interface UsageDelta {
  keyId: string;
  uses: number;
  lastUsedAt: number;
  /** The quota period these `quotaUses` belong to (null when the key has no quota). */
  quotaPeriod: number | null;
  quotaUses: number;
}

/** Columns a lifecycle change may set. */
export type KeyChange = Partial<
  Pick<
    StoredApiKey,
    'status' | 'disabledAt' | 'revokedAt' | 'revokedReason' | 'rotatedAt' | 'graceEndsAt' | 'replacedBy'
  >
>;

/** Rows of `listByOwner`. */
export interface ListQuery {
  ownerId: string;
  /** Only rows with these statuses. */
  statuses: readonly StoredKeyStatus[];
  limit: number;
}

/**
 * Persistence for keys and their audit trail. Every lifecycle change is conditional on the row's
 * current status and written with its audit entry in one transaction, so two instances racing to
 * revoke or rotate the same key cannot both win.
 */
export interface ApiKeyStore {
  /** Creates or upgrades the tables (idempotent; safe to run from several instances). */
  migrate(): Promise<void>;
  insert(key: StoredApiKey, audit: AuditEntry): Promise<void>;
  find(keyId: string): Promise<StoredApiKey | undefined>;
  listByOwner(query: ListQuery): Promise<StoredApiKey[]>;
  /** Applies `change` when the row's status is one of `fromStatuses`; false when it was not. */
  update(
    keyId: string,
    fromStatuses: readonly StoredKeyStatus[],
    change: KeyChange,
    audit: AuditEntry,
  ): Promise<boolean>;
  /**
   * Marks `oldKeyId` rotated (only if still `active`) and inserts `replacement`, atomically; false
   * when the old key was no longer active (another instance rotated or revoked it first).
   */
  rotate(
    oldKeyId: string,
    change: KeyChange,
    replacement: StoredApiKey,
    audits: AuditEntry[],
  ): Promise<boolean>;
  /** Replaces the hash (pepper rotation) if it is still `fromHash`. */
  rehash(
    keyId: string,
    fromHash: string,
    toHash: string,
    pepperId: string,
    audit: AuditEntry,
  ): Promise<boolean>;
  /** Appends an audit entry on its own (a `revealed` key, say). */
  appendAudit(audit: AuditEntry): Promise<void>;
  /** Adds usage deltas (counts add up across instances; last-used keeps the latest). */
  recordUsage(deltas: readonly UsageDelta[]): Promise<void>;
  /** Active keys expiring in `(now, before]`, soonest first. */
  dueForRotation(now: number, before: number, limit: number): Promise<StoredApiKey[]>;
  auditTrail(keyId: string): Promise<AuditEvent[]>;
  /** Releases what the store opened itself (a store given a Kysely instance leaves it open). */
  close(): Promise<void>;
  /**
   * The store's own way of telling other instances about changes, used when the manager has no
   * Redis; a new signal per call (each manager owns and closes its own).
   */
  invalidationSignal?(): InvalidationSignal;
}
