import {
  describeWithPostgresServer,
  describeWithServices,
  POSTGRES,
  type PostgresServerHandle,
  startPostgresServer,
} from '@plat/testkit';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { readPgStatStatements } from '../src';

interface ItemsDb {
  items: { id: number; name: string };
}

// The shared server does not preload pg_stat_statements (and must not be reconfigured), so this
// suite starts a private server that does.
describeWithServices([POSTGRES], 'pg_stat_statements reader', () => {
  describeWithPostgresServer('on a private server that preloads it', () => {
    let server: PostgresServerHandle | undefined;
    let db: Kysely<ItemsDb>;

    beforeAll(async () => {
      server = await startPostgresServer({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
      db = new Kysely<ItemsDb>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: server.url, max: 2 }) }),
      });
      await sql`create extension pg_stat_statements`.execute(db);
      await sql`create table items (id int primary key, name text not null)`.execute(db);
      await sql`insert into items select i, 'item ' || i from generate_series(1, 100) i`.execute(db);
      await sql`select pg_stat_statements_reset()`.execute(db);
      for (let i = 0; i < 5; i++) {
        await sql.raw(`select * from items where name = 'needle-secret-${i}'`).execute(db);
      }
      await db.selectFrom('items').select('id').where('id', '=', 7).execute();
      await sql.raw("set application_name = 'secret-app-name'").execute(db);
    }, 120_000);
    afterAll(async () => {
      await db?.destroy();
      await server?.stop();
    });

    it('reads the top statements, normalized, without utility statements', async () => {
      const result = await readPgStatStatements(db, { orderBy: 'calls', limit: 10 });
      expect(result.available).toBe(true);
      if (!result.available) return;
      const lookup = result.statements.find((s) => s.query === 'select * from items where name = ?');
      expect(lookup).toMatchObject({ calls: 5, rows: 0 });
      expect(lookup!.queryId).toMatch(/^-?\d+$/);
      expect(lookup!.totalMs).toBeGreaterThan(0);
      expect(lookup!.meanMs).toBeLessThanOrEqual(lookup!.maxMs);
      expect(result.statements.some((s) => s.query === 'select "id" from "items" where "id" = ?')).toBe(true);
      const text = JSON.stringify(result);
      expect(text).not.toContain('needle-secret');
      expect(text).not.toContain('application_name');
      expect(result.statements[0]!.calls).toBeGreaterThanOrEqual(result.statements.at(-1)!.calls);
    });

    it('folds literals of utility statements when they are asked for', async () => {
      const result = await readPgStatStatements(db, { includeUtility: true, limit: 50 });
      expect(result.available).toBe(true);
      const text = JSON.stringify(result);
      expect(text).toContain('set application_name = ?');
      expect(text).not.toContain('secret-app-name');
    });
  });
});
