/**
 * Upgrading a PostgreSQL store created before `0002_append_json`: the store's `migrate()` adds the
 * jsonb append function, appends then go through it, and the migration can be rolled back.
 */
import { describeWithPostgres } from '@plat/testkit';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createEventStore, createMigrator, tableNames } from '../src';

describeWithPostgres('migrations [postgres]', (pgdb) => {
  let pool: pg.Pool;
  let db: Kysely<unknown>;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: pgdb.url, max: 2 });
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const functions = async (prefix: string) =>
    (
      await sql<{ name: string }>`select proname as name from pg_proc
        where proname like ${`${prefix}append%`} and pronamespace = current_schema()::regnamespace
        order by proname`.execute(db)
    ).rows.map((row) => row.name);

  it('upgrades a 0001 store to 0002 and rolls it back', async () => {
    const t = tableNames('upg_');
    const migrator = await createMigrator(db, 'postgres', t);
    expect((await migrator.migrateTo('0001_event_store')).error).toBeUndefined();
    expect(await functions('upg_')).toEqual(['upg_append']);
    const store = createEventStore({ db, tablePrefix: 'upg_' });
    expect(await store.migrate()).toEqual(['0002_append_json']);
    expect(await functions('upg_')).toEqual(['upg_append', 'upg_append_json']);
    const first = await store.append('s', [{ type: 'A', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    const second = await store.append(
      's',
      [
        { type: 'B', data: { n: 2 } },
        { type: 'C', data: null },
      ],
      {
        expectedVersion: 1,
      },
    );
    expect(second).toMatchObject({ nextExpectedVersion: 3, idempotent: false });
    expect(second.position).toBeGreaterThan(first.position);
    const slice = await store.readStream('s');
    expect(slice.events.map((e) => [e.version, e.type, e.data])).toEqual([
      [1, 'A', { n: 1 }],
      [2, 'B', { n: 2 }],
      [3, 'C', null],
    ]);
    expect((await migrator.migrateDown()).error).toBeUndefined();
    expect(await functions('upg_')).toEqual(['upg_append']);
    await store.close();
  });

  it('keeps appending on a database not yet migrated to 0002 (a rolling deploy)', async () => {
    const t = tableNames('roll_');
    const migrator = await createMigrator(db, 'postgres', t);
    expect((await migrator.migrateTo('0001_event_store')).error).toBeUndefined();
    // The new code runs before any instance has migrated: appends go through the 0001 function.
    const early = createEventStore({ db, tablePrefix: 'roll_' });
    await early.append('s', [{ type: 'A', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    await early.append('s', [{ type: 'B', data: { n: 2 } }], { expectedVersion: 1 });
    expect(await functions('roll_')).toEqual(['roll_append']);
    // Then it migrates, and goes on appending through the new function.
    expect(await early.migrate()).toEqual(['0002_append_json']);
    const third = await early.append('s', [{ type: 'C', data: { n: 3 } }], { expectedVersion: 2 });
    expect(third.nextExpectedVersion).toBe(3);
    await expect(
      early.append('s', [{ type: 'D', data: null }], { expectedVersion: 2 }),
    ).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION' });
    expect((await early.readStream('s')).events.map((e) => e.type)).toEqual(['A', 'B', 'C']);
    await early.close();
  });
});
