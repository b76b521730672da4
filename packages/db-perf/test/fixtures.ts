/** Shared fixtures of the integration tests: a small blog schema on SQLite and PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres } from '@plat/testkit';
import Database from 'better-sqlite3';
import { type Dialect, type Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { SqlDialect } from '../src';

export interface BlogDb {
  users: { id: number; name: string; email: string };
  posts: { id: number; author_id: number; title: string };
  comments: { id: number; post_id: number; body: string };
}

export interface DatabaseTarget {
  readonly dialect: SqlDialect;
  /** A new dialect (a new SQLite connection to the suite's file, or a new pool on the file's schema). */
  makeDialect(): Dialect;
}

/** Runs `body` on SQLite (a temporary file) and on PostgreSQL (this file's schema, or a visible skip). */
export function describeOnBothDatabases(name: string, body: (target: DatabaseTarget) => void): void {
  describe(`${name} [sqlite]`, () => {
    let dir: string | undefined;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'plat-db-perf-'));
    });
    afterAll(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });
    body({
      dialect: 'sqlite',
      makeDialect: () => new SqliteDialect({ database: new Database(join(dir!, 'test.db')) }),
    });
  });
  describeWithPostgres(`${name} [postgres]`, (pgdb) => {
    body({
      dialect: 'postgres',
      makeDialect: () => new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url, max: 5 }) }),
    });
  });
}

/** Creates users, posts (one per user) and comments (three per post). */
export async function createBlogSchema(db: Kysely<BlogDb>, users = 50): Promise<void> {
  await db.schema.dropTable('comments').ifExists().execute();
  await db.schema.dropTable('posts').ifExists().execute();
  await db.schema.dropTable('users').ifExists().execute();
  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('posts')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('author_id', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('comments')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('post_id', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  const ids = Array.from({ length: users }, (_, i) => i + 1);
  await db
    .insertInto('users')
    .values(ids.map((id) => ({ id, name: `user ${id}`, email: `user${id}@example.com` })))
    .execute();
  // Post n is written by user (n * 7) % users + 1, so authors are not in post order.
  await db
    .insertInto('posts')
    .values(ids.map((id) => ({ id, author_id: ((id * 7) % users) + 1, title: `post ${id}` })))
    .execute();
  await db
    .insertInto('comments')
    .values(
      ids.flatMap((id) =>
        [0, 1, 2].map((k) => ({ id: id * 10 + k, post_id: id, body: `comment ${k} on ${id}` })),
      ),
    )
    .execute();
}
