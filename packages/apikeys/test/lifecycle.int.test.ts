import { looksLikeApiKey, redactApiKeys } from '@plat/core';
import { describeWithDatabases } from '@plat/testkit';
import { type Kysely, sql } from 'kysely';
import {
  type ApiKeyManager,
  type ApiKeyManagerOptions,
  type ApiKeyStore,
  type AutoRotatedKey,
  createApiKeyManager,
  createKyselyKeyStore,
  formatApiKey,
  parseApiKey,
} from '../src';
import { countingStore, DAY, errorLog, manualClock, PEPPER, PEPPER_2 } from './helpers';

const ENCRYPTION_KEY = { id: 'k1', key: Buffer.alloc(32, 7) };

/** Every row of every table, as text, to search for secrets. */
async function dumpAllTables(db: Kysely<unknown>, dialect: 'sqlite' | 'postgres'): Promise<string> {
  const tables =
    dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
          db,
        );
  expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['api_keys', 'api_key_events']));
  let text = '';
  for (const { name } of tables.rows) {
    const rows = await sql`select * from ${sql.table(name)}`.execute(db);
    text += `${name}\n${JSON.stringify(rows.rows)}\n`;
  }
  return text;
}

describeWithDatabases<unknown>('api key lifecycle', (t) => {
  let store: ApiKeyStore;
  let clock: ReturnType<typeof manualClock>;
  let log: ReturnType<typeof errorLog>;
  const managers: ApiKeyManager[] = [];
  let owner = 0;
  const nextOwner = () => `owner-${++owner}`;

  const manager = (options: Partial<ApiKeyManagerOptions> = {}) => {
    const created = createApiKeyManager({
      store,
      peppers: [PEPPER],
      clock: clock.now,
      onError: log.onError,
      ...options,
    });
    managers.push(created);
    return created;
  };

  beforeAll(async () => {
    store = createKyselyKeyStore({ db: t.db });
    await store.migrate();
  });
  beforeEach(() => {
    clock = manualClock();
    log = errorLog();
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });

  it('migrates idempotently, also from several instances at once', async () => {
    await Promise.all([store.migrate(), store.migrate(), createKyselyKeyStore({ db: t.db }).migrate()]);
    // Fresh tables, migrated by three instances at once.
    const racing = [1, 2, 3].map(() => createKyselyKeyStore({ db: t.db, tablePrefix: 'race_' }));
    await Promise.all(racing.map((s) => s.migrate()));
    const keys = manager({ store: racing[0]!, migrate: false });
    const { key } = await keys.create({ ownerId: nextOwner(), name: 'k' });
    expect((await manager({ store: racing[2]!, migrate: false }).validate(key)).valid).toBe(true);
  });

  it('creates a key, returns it once and validates it', async () => {
    const keys = manager();
    const ownerId = nextOwner();
    const created = await keys.create({
      ownerId,
      name: 'CI',
      scopes: ['workflows:read'],
      metadata: { team: 'a' },
    });
    expect(looksLikeApiKey(created.key)).toBe(true);
    expect(redactApiKeys(`key=${created.key}`)).toBe(`key=plat_live_${created.keyId}_[REDACTED]`);
    expect(created.key.startsWith(`plat_live_${created.keyId}_`)).toBe(true);
    expect(created).toMatchObject({
      ownerId,
      name: 'CI',
      status: 'active',
      scopes: ['workflows:read'],
      useCount: 0,
    });
    expect(created.expiresAt!.getTime() - created.createdAt.getTime()).toBe(90 * DAY);
    const info = await keys.get(created.keyId);
    expect(info).not.toHaveProperty('key');
    expect(JSON.stringify(info)).not.toContain(parseApiKey(created.key)!.secret);

    const result = await keys.validate(created.key, { requiredScopes: ['workflows:read'] });
    expect(result).toEqual({
      valid: true,
      key: {
        keyId: created.keyId,
        ownerId,
        name: 'CI',
        scopes: ['workflows:read'],
        expiresAt: created.expiresAt,
        metadata: { team: 'a' },
      },
    });
  });

  it('rejects unknown ids and wrong secrets as NOT_FOUND, garbage as MALFORMED', async () => {
    const keys = manager();
    const { key, keyId } = await keys.create({ ownerId: nextOwner(), name: 'k' });
    const parsed = parseApiKey(key)!;
    const wrongSecret = formatApiKey(
      parsed.prefix,
      keyId,
      `${parsed.secret.slice(0, -1)}${parsed.secret.endsWith('a') ? 'b' : 'a'}`,
    );
    expect(await keys.validate(wrongSecret)).toEqual({ valid: false, reason: 'NOT_FOUND', keyId });
    const wrongPrefix = formatApiKey('other', keyId, parsed.secret);
    expect(await keys.validate(wrongPrefix)).toMatchObject({ valid: false, reason: 'NOT_FOUND' });
    const unknown = formatApiKey('plat_live', 'AAAAAAAAAAAA', parsed.secret);
    expect(await keys.validate(unknown)).toEqual({
      valid: false,
      reason: 'NOT_FOUND',
      keyId: 'AAAAAAAAAAAA',
    });
    expect(await keys.validate(`${key.slice(0, -1)}x`)).toEqual({ valid: false, reason: 'MALFORMED' });
    expect(await keys.validate(42)).toEqual({ valid: false, reason: 'MALFORMED' });
    // The real key still works after all that.
    expect((await keys.validate(key)).valid).toBe(true);
  });

  it('checks scopes, including wildcards', async () => {
    const keys = manager();
    const { key } = await keys.create({
      ownerId: nextOwner(),
      name: 'k',
      scopes: ['workflows:*', 'nodes:read'],
    });
    expect((await keys.validate(key, { requiredScopes: ['workflows:write', 'nodes:read'] })).valid).toBe(
      true,
    );
    expect(
      await keys.validate(key, { requiredScopes: ['nodes:write', 'workflows:read', 'admin'] }),
    ).toMatchObject({
      valid: false,
      reason: 'INSUFFICIENT_SCOPE',
      missingScopes: ['nodes:write', 'admin'],
    });
    const { key: root } = await keys.create({ ownerId: nextOwner(), name: 'root', scopes: ['*'] });
    expect((await keys.validate(root, { requiredScopes: ['anything:at-all'] })).valid).toBe(true);
    const { key: none } = await keys.create({ ownerId: nextOwner(), name: 'none' });
    expect((await keys.validate(none)).valid).toBe(true);
    expect((await keys.validate(none, { requiredScopes: ['x'] })).valid).toBe(false);
  });

  it('expires keys on time, even while they are cached', async () => {
    const keys = manager();
    const ownerId = nextOwner();
    const { key, keyId } = await keys.create({ ownerId, name: 'short', expiresInDays: 1 });
    const { key: forever } = await keys.create({ ownerId, name: 'forever', expiresInDays: null });
    expect((await keys.validate(key)).valid).toBe(true);
    clock.advance(DAY - 1);
    expect((await keys.validate(key)).valid).toBe(true);
    clock.advance(1);
    expect(await keys.validate(key)).toEqual({ valid: false, reason: 'EXPIRED', keyId });
    expect((await keys.get(keyId))!.status).toBe('expired');
    expect((await keys.list(ownerId)).map((k) => k.name)).toEqual(['forever']);
    expect((await keys.list(ownerId, { includeInactive: true })).map((k) => k.name).sort()).toEqual([
      'forever',
      'short',
    ]);
    clock.advance(3000 * DAY);
    expect((await keys.validate(forever)).valid).toBe(true);
  });

  it('rotates with grace: the old key works until the grace ends, the new one inherits everything', async () => {
    const keys = manager();
    const ownerId = nextOwner();
    const old = await keys.create({
      ownerId,
      name: 'deploy',
      scopes: ['workflows:write'],
      metadata: { env: 'prod' },
      expiresInDays: 30,
      rateLimit: { limit: 1000, windowSeconds: 60 },
    });
    expect((await keys.validate(old.key)).valid).toBe(true);
    clock.advance(10 * DAY);
    const fresh = await keys.rotate(old.keyId, { graceSeconds: 3600 });
    expect(fresh.keyId).not.toBe(old.keyId);
    expect(fresh).toMatchObject({
      ownerId,
      name: 'deploy',
      scopes: ['workflows:write'],
      metadata: { env: 'prod' },
      rotatedFrom: old.keyId,
      rateLimit: { limit: 1000, windowSeconds: 60 },
      status: 'active',
    });
    // Same lifetime as the key it replaces.
    expect(fresh.expiresAt!.getTime() - fresh.createdAt.getTime()).toBe(30 * DAY);
    const oldInfo = (await keys.get(old.keyId))!;
    expect(oldInfo).toMatchObject({ status: 'rotated', replacedBy: fresh.keyId });
    expect(oldInfo.graceEndsAt!.getTime()).toBe(clock.now() + 3600_000);

    expect((await keys.validate(old.key)).valid).toBe(true);
    expect((await keys.validate(fresh.key, { requiredScopes: ['workflows:write'] })).valid).toBe(true);
    clock.advance(3600_000 - 1);
    expect((await keys.validate(old.key)).valid).toBe(true);
    clock.advance(1);
    expect(await keys.validate(old.key)).toMatchObject({ valid: false, reason: 'EXPIRED' });
    expect((await keys.get(old.keyId))!.status).toBe('expired');
    expect((await keys.validate(fresh.key)).valid).toBe(true);

    await expect(keys.rotate(old.keyId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const trail = await keys.auditTrail(old.keyId);
    expect(trail.map((e) => e.action)).toEqual(['created', 'rotated']);
    expect(trail[1]!.details).toMatchObject({ replacedBy: fresh.keyId });
    expect((await keys.auditTrail(fresh.keyId)).map((e) => [e.action, e.details])).toEqual([
      ['created', { rotatedFrom: old.keyId }],
    ]);
  });

  it('never extends a rotated key beyond its own expiry', async () => {
    const keys = manager();
    const old = await keys.create({ ownerId: nextOwner(), name: 'k', expiresInDays: 1 });
    clock.advance(DAY - 60_000);
    await keys.rotate(old.keyId, { graceSeconds: 7 * 24 * 3600 });
    expect((await keys.get(old.keyId))!.graceEndsAt).toEqual(old.expiresAt);
    clock.advance(59_999);
    expect((await keys.validate(old.key)).valid).toBe(true);
    clock.advance(1);
    expect(await keys.validate(old.key)).toMatchObject({ reason: 'EXPIRED' });
  });

  it('lets only one of two concurrent rotations win', async () => {
    const a = manager();
    const b = manager();
    const old = await a.create({ ownerId: nextOwner(), name: 'k' });
    const results = await Promise.allSettled([a.rotate(old.keyId), b.rotate(old.keyId)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'INVALID_STATE' } });
    expect(await a.list(old.ownerId)).toHaveLength(2);
  });

  it('revokes at once, even a cached key, and keeps it revoked', async () => {
    const keys = manager();
    const ownerId = nextOwner();
    const { key, keyId } = await keys.create({ ownerId, name: 'k' });
    expect((await keys.validate(key)).valid).toBe(true);
    const info = await keys.revoke(keyId, 'leaked in a gist', { actor: 'security-team' });
    expect(info).toMatchObject({ status: 'revoked', revokedReason: 'leaked in a gist' });
    expect(await keys.validate(key)).toEqual({ valid: false, reason: 'REVOKED', keyId });
    // Idempotent, and other managers on the same store agree.
    expect((await keys.revoke(keyId)).revokedReason).toBe('leaked in a gist');
    expect(await manager().validate(key)).toMatchObject({ reason: 'REVOKED' });
    await expect(keys.rotate(keyId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(keys.enable(keyId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(await keys.list(ownerId)).toEqual([]);
    const trail = await keys.auditTrail(keyId);
    expect(trail.map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['created', null, null],
      ['revoked', 'security-team', 'leaked in a gist'],
    ]);
    await expect(keys.revoke('AAAAAAAAAAAA')).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    await expect(keys.revoke('not a key id')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('revokes a rotated key during its grace', async () => {
    const keys = manager();
    const old = await keys.create({ ownerId: nextOwner(), name: 'k' });
    const fresh = await keys.rotate(old.keyId, { graceSeconds: 3600 });
    expect((await keys.validate(old.key)).valid).toBe(true);
    await keys.revoke(old.keyId, 'rotated because leaked');
    expect(await keys.validate(old.key)).toMatchObject({ reason: 'REVOKED' });
    expect((await keys.validate(fresh.key)).valid).toBe(true);
  });

  it('disables and re-enables a key', async () => {
    const keys = manager();
    const { key, keyId } = await keys.create({ ownerId: nextOwner(), name: 'k' });
    expect((await keys.validate(key)).valid).toBe(true);
    expect((await keys.disable(keyId, { reason: 'billing' })).status).toBe('disabled');
    expect(await keys.validate(key)).toEqual({ valid: false, reason: 'DISABLED', keyId });
    await expect(keys.rotate(keyId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await keys.enable(keyId)).status).toBe('active');
    expect((await keys.validate(key)).valid).toBe(true);
    expect((await keys.auditTrail(keyId)).map((e) => e.action)).toEqual(['created', 'disabled', 'enabled']);
  });

  it('lists an owner’s keys, newest first', async () => {
    const keys = manager();
    const ownerId = nextOwner();
    for (const name of ['a', 'b', 'c']) {
      await keys.create({ ownerId, name });
      clock.advance(1000);
    }
    await keys.create({ ownerId: nextOwner(), name: 'someone else' });
    expect((await keys.list(ownerId)).map((k) => k.name)).toEqual(['c', 'b', 'a']);
    expect((await keys.list(ownerId, { limit: 2 })).map((k) => k.name)).toEqual(['c', 'b']);
    await expect(keys.list(ownerId, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('rejects bad input with typed errors naming the field', async () => {
    const keys = manager();
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x' }, 'ownerId'],
      [{ ownerId: 'o', name: '' }, 'name'],
      [{ ownerId: 'o', name: 'a\nb' }, 'name'],
      [{ ownerId: 'o', name: 'x', scopes: 'admin' }, 'scopes'],
      [{ ownerId: 'o', name: 'x', scopes: ['a b'] }, 'scopes'],
      [{ ownerId: 'o', name: 'x', scopes: ['*:a'] }, 'scopes'],
      [{ ownerId: 'o', name: 'x', expiresInDays: -1 }, 'expiresInDays'],
      [{ ownerId: 'o', name: 'x', expiresInDays: Number.NaN }, 'expiresInDays'],
      [{ ownerId: 'o', name: 'x', metadata: [1] }, 'metadata'],
      [{ ownerId: 'o', name: 'x', metadata: { big: 'x'.repeat(9000) } }, 'metadata'],
      [{ ownerId: 'o', name: 'x', rateLimit: { limit: 0, windowSeconds: 1 } }, 'rateLimit.limit'],
      [{ ownerId: 'o', name: 'x', quota: { limit: 1, periodSeconds: 1 } }, 'quota.periodSeconds'],
    ];
    for (const [request, field] of bad) {
      await expect(keys.create(request as never)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        details: { field },
      });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(keys.create({ ownerId: 'o', name: 'x', metadata: cyclic })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const { keyId } = await keys.create({ ownerId: 'o', name: 'x' });
    await expect(keys.rotate(keyId, { graceSeconds: -5 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await keys.get(keyId))!.status).toBe('active');
  });

  it('counts usage exactly after 10,000 concurrent validations, with one store read and few writes', async () => {
    const counted = countingStore(store);
    const keys = manager({ store: counted.store });
    const { key, keyId } = await keys.create({ ownerId: nextOwner(), name: 'busy' });
    counted.calls.find = 0;
    const results = await Promise.all(Array.from({ length: 10_000 }, () => keys.validate(key)));
    expect(results.every((r) => r.valid)).toBe(true);
    // Concurrent misses of one key share one read.
    expect(counted.calls.find).toBe(1);
    expect((await keys.get(keyId))!.useCount).toBe(10_000);
    await keys.flush();
    expect(counted.calls.recordUsage).toBe(1);
    const row = await store.find(keyId);
    expect(row).toMatchObject({ useCount: 10_000, lastUsedAt: clock.now() });
  });

  it('loses no usage on a clean shutdown', async () => {
    const keys = manager();
    const { key, keyId } = await keys.create({ ownerId: nextOwner(), name: 'k' });
    const pending = Array.from({ length: 500 }, () => keys.validate(key));
    await keys.close();
    expect((await Promise.all(pending)).every((r) => r.valid)).toBe(true);
    await expect(keys.validate(key)).rejects.toMatchObject({ code: 'CLOSED' });
    expect((await store.find(keyId))!.useCount).toBe(500);
    // Usage adds up across instances.
    const other = manager();
    for (let i = 0; i < 5; i++) await other.validate(key);
    await other.close();
    expect((await store.find(keyId))!.useCount).toBe(505);
  });

  it('adds up usage flushed by several instances at once, over many keys', async () => {
    const instances = [manager(), manager(), manager()];
    const ownerId = nextOwner();
    const issued = await Promise.all(
      Array.from({ length: 40 }, (_, i) => instances[0]!.create({ ownerId, name: `k${i}` })),
    );
    for (let round = 0; round < 3; round++) {
      // Each instance uses the keys in its own order, then all flush together.
      await Promise.all(
        instances.map(async (instance, n) => {
          const order = n % 2 === 0 ? issued : [...issued].reverse();
          for (const { key } of order) await instance.validate(key);
        }),
      );
      await Promise.all(instances.map((instance) => instance.flush()));
    }
    expect(log.lines).toEqual([]);
    for (const { keyId } of issued) expect((await store.find(keyId))!.useCount).toBe(9);
  });

  it('limits a key’s rate with 429 semantics and keeps its quota across restarts', async () => {
    const keys = manager();
    const { key, keyId } = await keys.create({
      ownerId: nextOwner(),
      name: 'limited',
      rateLimit: { limit: 3, windowSeconds: 10 },
      quota: { limit: 5, periodSeconds: 3600 },
    });
    for (let i = 0; i < 3; i++) expect((await keys.validate(key)).valid).toBe(true);
    const limited = await keys.validate(key);
    expect(limited).toMatchObject({ valid: false, reason: 'RATE_LIMITED', keyId });
    expect((limited as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await keys.close();
    // A new instance (a restart) starts from the quota the store recorded: 3 used, 2 left.
    clock.advance(60_000);
    const restarted = manager();
    expect((await restarted.validate(key)).valid).toBe(true);
    expect((await restarted.validate(key)).valid).toBe(true);
    clock.advance(30_000);
    const exhausted = await restarted.validate(key);
    expect(exhausted).toMatchObject({ valid: false, reason: 'QUOTA_EXCEEDED' });
    const periodEnd = Math.ceil(clock.now() / 3600_000) * 3600_000;
    expect((exhausted as { retryAfterSeconds: number }).retryAfterSeconds).toBe(
      Math.ceil((periodEnd - clock.now()) / 1000),
    );
    clock.set(periodEnd);
    expect((await restarted.validate(key)).valid).toBe(true);
  });

  it('rotates peppers: old hashes still verify and are re-hashed under the new pepper', async () => {
    const before = manager({ peppers: [PEPPER] });
    const { key, keyId } = await before.create({ ownerId: nextOwner(), name: 'k' });
    expect((await store.find(keyId))!.pepperId).toBe('p1');
    const during = manager({ peppers: [PEPPER_2, PEPPER] });
    expect((await during.validate(key)).valid).toBe(true);
    for (let i = 0; i < 100 && (await store.find(keyId))!.pepperId !== 'p2'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await store.find(keyId))!.pepperId).toBe('p2');
    expect((await during.auditTrail(keyId)).map((e) => e.action)).toEqual(['created', 'rehashed']);
    const after = manager({ peppers: [PEPPER_2] });
    expect((await after.validate(key)).valid).toBe(true);
    // A manager that lost the pepper cannot verify, says so, and does not crash.
    const lost = manager({ peppers: [PEPPER] });
    expect(await lost.validate(key)).toMatchObject({ valid: false, reason: 'NOT_FOUND' });
    expect(log.lines.some((line) => line.includes('pepper \\"p2\\"'))).toBe(true);
  });

  it('encrypts names and metadata at rest, and recovers secrets only when asked to', async () => {
    const keys = manager({ encryption: { keys: [ENCRYPTION_KEY], recoverableSecrets: true } });
    const created = await keys.create({
      ownerId: nextOwner(),
      name: 'payroll export',
      metadata: { cost: 'center-42' },
    });
    const row = (await store.find(created.keyId))!;
    expect(row.name).toBe('');
    expect(row.metadata).toBe('{}');
    expect(row.sealed).not.toContain('payroll');
    expect(row.secretSealed).not.toBeNull();
    expect(await keys.get(created.keyId)).toMatchObject({
      name: 'payroll export',
      metadata: { cost: 'center-42' },
      recoverable: true,
    });
    expect((await keys.validate(created.key)).valid).toBe(true);
    expect(await keys.reveal(created.keyId, { actor: 'support' })).toBe(created.key);
    expect((await keys.auditTrail(created.keyId)).map((e) => e.action)).toEqual(['created', 'revealed']);
    // After rotating the data key, old ciphertexts still open with the old key listed second.
    const rotatedKey = manager({
      encryption: { keys: [{ id: 'k2', key: Buffer.alloc(32, 9) }, ENCRYPTION_KEY] },
    });
    expect((await rotatedKey.get(created.keyId))!.name).toBe('payroll export');
    const plain = manager();
    await expect(plain.get(created.keyId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const notRecoverable = manager({ encryption: { keys: [ENCRYPTION_KEY] } });
    const other = await notRecoverable.create({ ownerId: nextOwner(), name: 'x' });
    await expect(notRecoverable.reveal(other.keyId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('rotates keys approaching expiry on schedule and notifies the owner once', async () => {
    const delivered: AutoRotatedKey[] = [];
    const options = {
      autoRotation: {
        withinDays: 7,
        graceSeconds: 3600,
        intervalSeconds: 0,
        onRotated: (r: AutoRotatedKey) => void delivered.push(r),
      },
    };
    const a = manager(options);
    const b = manager(options);
    const ownerId = nextOwner();
    const soon = await a.create({ ownerId, name: 'soon', expiresInDays: 30 });
    const later = await a.create({ ownerId, name: 'later', expiresInDays: 60 });
    const tiny = await a.create({ ownerId, name: 'tiny', expiresInDays: 3 });
    clock.advance(25 * DAY);
    const [ra, rb] = await Promise.all([a.runAutoRotation(), b.runAutoRotation()]);
    const rotatedIds = [...ra, ...rb].map((r) => r.previousKeyId);
    expect(rotatedIds.filter((id) => id === soon.keyId)).toHaveLength(1);
    expect(rotatedIds).not.toContain(later.keyId);
    // A key whose whole lifetime fits in the window would be rotated again and again: left alone.
    expect(rotatedIds).not.toContain(tiny.keyId);
    const event = delivered.find((r) => r.previousKeyId === soon.keyId)!;
    expect(event.ownerId).toBe(ownerId);
    expect(event.newKey).toMatchObject({ name: 'soon', rotatedFrom: soon.keyId });
    expect((await a.validate(event.newKey.key)).valid).toBe(true);
    expect((await a.validate(soon.key)).valid).toBe(true);
    clock.advance(3600_000);
    expect(await a.validate(soon.key)).toMatchObject({ reason: 'EXPIRED' });
    expect((await a.auditTrail(soon.keyId))[1]).toMatchObject({ action: 'rotated', actor: 'auto-rotation' });
    expect(await a.runAutoRotation()).toEqual([]);
  });

  it('never stores, logs or reports a secret', async () => {
    const consoleLines: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map(String).join(' '));
      }),
    );
    // The default reporter emits process warnings: capture what it would print.
    const warnings: string[] = [];
    const warningSpy = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
      warnings.push(String(warning));
    });
    const messages: string[] = [];
    const capture = async (run: () => Promise<unknown>) => {
      try {
        messages.push(JSON.stringify(await run()));
      } catch (error) {
        messages.push(
          `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack} ${String((error as Error).cause)}`,
        );
      }
    };
    try {
      const keys = manager({ encryption: { keys: [ENCRYPTION_KEY], recoverableSecrets: true } });
      const plain = manager({ onError: undefined as never, peppers: [PEPPER_2, PEPPER] });
      const ownerId = nextOwner();
      const issued: string[] = [];
      const a = await keys.create({
        ownerId,
        name: 'a',
        scopes: ['x'],
        rateLimit: { limit: 1, windowSeconds: 60 },
      });
      const b = await plain.create({ ownerId, name: 'b' });
      issued.push(a.key, b.key);
      await capture(() => keys.validate(a.key, { requiredScopes: ['x'] }));
      await capture(() => keys.validate(a.key));
      await capture(() => keys.validate(a.key, { requiredScopes: ['y'] }));
      await capture(() => plain.validate(b.key));
      await capture(() => plain.validate(`${b.key}tail`));
      const rotated = await keys.rotate(a.keyId);
      issued.push(rotated.key);
      await capture(() => keys.revoke(rotated.keyId, 'test'));
      await capture(() => keys.validate(rotated.key));
      await capture(() => keys.get(a.key));
      await capture(() => keys.revoke(a.key));
      await capture(() => keys.rotate(b.key));
      await capture(() => keys.list(ownerId, { includeInactive: true }));
      await capture(() => keys.auditTrail(a.keyId));
      // A manager without the pepper of a key reports the problem without the key.
      const stranger = manager({ peppers: [PEPPER_2], onError: undefined as never });
      await capture(() => stranger.validate(a.key));
      await Promise.all(managers.map((m) => m.flush()));
      await new Promise((resolve) => setImmediate(resolve));

      const database = await dumpAllTables(t.db, t.dialect);
      const everything = [database, ...log.lines, ...consoleLines, ...warnings, ...messages].join('\n');
      expect(database).toContain(a.keyId);
      expect(messages.length).toBeGreaterThan(10);
      expect(warnings.join('\n')).toContain(`Key ${a.keyId} is hashed with pepper`);
      for (const key of issued) {
        const { secret } = parseApiKey(key)!;
        expect(everything).not.toContain(secret);
        expect(everything).not.toContain(key);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
      warningSpy.mockRestore();
    }
  });
});
