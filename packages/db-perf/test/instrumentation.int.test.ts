import { runWithContext } from '@plat/core';
import { Kysely } from 'kysely';
import {
  createDbPerf,
  createLoader,
  createRelationLoader,
  type DbPerf,
  type NPlusOneReport,
  profileUnitOfWork,
  type SlowQueryEvent,
  unitOfWork,
} from '../src';
import { type BlogDb, createBlogSchema, describeOnBothDatabases } from './fixtures';

describeOnBothDatabases('db-perf instrumentation', (target) => {
  let perf: DbPerf;
  let db: Kysely<BlogDb>;
  const reports: NPlusOneReport[] = [];

  beforeAll(async () => {
    perf = createDbPerf({ logger: false, onNPlusOne: (report) => reports.push(report) });
    db = perf.attach(new Kysely<BlogDb>({ dialect: target.makeDialect(), log: perf.log }));
    await createBlogSchema(db);
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(() => {
    reports.length = 0;
    perf.reset();
  });

  const findUser = (id: number) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

  it('detects its dialect and keeps statistics per fingerprint', async () => {
    expect(perf.dialect).toBe(target.dialect);
    for (let id = 1; id <= 10; id++) await findUser(id);
    await db.selectFrom('posts').selectAll().execute();
    const report = perf.report({ orderBy: 'calls' });
    expect(report.fingerprints).toBe(2);
    expect(report.totalCalls).toBe(11);
    const [lookups, posts] = report.queries;
    expect(lookups).toMatchObject({
      fingerprint: 'select * from "users" where "id" = ?',
      calls: 10,
      failed: 0,
      rows: 10,
      meanRows: 1,
      slow: 0,
      thresholdMs: 1000,
    });
    expect(lookups!.p95Ms).toBeGreaterThan(0);
    expect(lookups!.maxMs).toBeGreaterThanOrEqual(lookups!.meanMs);
    expect(posts).toMatchObject({ calls: 1, rows: 50 });
    expect(perf.report({ limit: 1 }).queries).toHaveLength(1);
  });

  it('counts failed queries', async () => {
    // Not `rejects.toThrow()`: better-sqlite3's native addon keeps the SqliteError class of the first
    // test file that loaded it in this jest worker, so in later files the error is not `instanceof`
    // this realm's Error and `toThrow` reports "did not throw". The message is realm-independent.
    await expect(
      db
        .selectFrom('no_such_table' as 'users')
        .selectAll()
        .execute(),
    ).rejects.toHaveProperty('message', expect.stringMatching(/no such table|does not exist/));
    expect(perf.report().queries[0]).toMatchObject({ calls: 1, failed: 1 });
  });

  it('reports an N+1 loop of 50 lookups once; the loader version runs as 2 queries', async () => {
    const { summary } = await profileUnitOfWork(async () => {
      const posts = await db.selectFrom('posts').selectAll().execute();
      const authors = [];
      for (const post of posts) authors.push(await findUser(post.author_id));
      return authors;
    });
    expect(summary.queries).toBe(51);
    expect(summary.nPlusOne).toHaveLength(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      type: 'n-plus-one',
      fingerprint: 'select * from "users" where "id" = ?',
      count: 50,
      distinctParameters: 50,
    });
    expect(reports[0]!.callSite).toMatch(/instrumentation\.int\.test\.ts:\d+:\d+/);
    expect(reports[0]!.suggestion).toContain("createLoader(db, { table: 'users', key: 'id' })");

    reports.length = 0;
    const users = createLoader(db, { table: 'users', key: 'id', columns: ['name'] });
    const loaded = await profileUnitOfWork(async () => {
      const posts = await db.selectFrom('posts').selectAll().orderBy('id').execute();
      const authors = await Promise.all(posts.map((post) => users.load(post.author_id)));
      return posts.map((post, i) => [post.author_id, authors[i]?.id, authors[i]?.name]);
    });
    expect(loaded.summary.queries).toBe(2);
    expect(loaded.summary.nPlusOne).toEqual([]);
    expect(reports).toEqual([]);
    for (const [authorId, loadedId, name] of loaded.result) {
      expect(loadedId).toBe(authorId);
      expect(name).toBe(`user ${authorId}`);
    }
  });

  it('does not report single loads, a few lookups or the same lookup repeated', async () => {
    const { summary } = await profileUnitOfWork(async () => {
      await findUser(1);
      await db.selectFrom('posts').selectAll().where('id', '=', 1).execute();
      for (let id = 1; id <= 4; id++) await findUser(id); // below the threshold of 5
      for (let i = 0; i < 10; i++) await db.selectFrom('comments').selectAll().where('id', '=', 10).execute();
    });
    expect(summary.queries).toBe(16);
    expect(summary.nPlusOne).toEqual([]);
    expect(reports).toEqual([]);
  });

  it('counts per unit of work: separate units never add up', async () => {
    for (let round = 0; round < 3; round++) {
      await unitOfWork(async () => {
        for (let id = 1; id <= 3; id++) await findUser(id);
      });
    }
    expect(reports).toEqual([]);
  });

  it('fails the query that reaches the threshold in throw mode', async () => {
    let ran = 0;
    const failure = await unitOfWork(
      async () => {
        for (let id = 1; id <= 20; id++) {
          await findUser(id);
          ran++;
        }
      },
      { nPlusOne: { mode: 'throw', threshold: 5 } },
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'DbPerfError', code: 'N_PLUS_ONE', details: { count: 5 } });
    expect((failure as Error).message).toContain('instrumentation.int.test.ts');
    expect(ran).toBe(4);
    expect(reports).toHaveLength(1);
  });

  it('leaves allow-listed loops alone', async () => {
    const { summary } = await profileUnitOfWork(
      async () => {
        for (let id = 1; id <= 10; id++) await findUser(id);
      },
      { nPlusOne: { mode: 'throw', allow: ['"users"'] } },
    );
    expect(summary.queries).toBe(10);
    expect(summary.nPlusOne).toEqual([]);
  });

  it('loads in key order with duplicates and misses, in batches of maxBatchSize', async () => {
    const users = createLoader(db, { table: 'users', key: 'id', maxBatchSize: 20 });
    const { result, summary } = await profileUnitOfWork(async () => {
      const first = await users.loadMany([5, 999, 3, 5, 50]);
      const many = await Promise.all(Array.from({ length: 45 }, (_, i) => users.load(i + 1)));
      return { first, many };
    });
    expect(result.first.map((user) => user?.id)).toEqual([5, undefined, 3, 5, 50]);
    expect(result.many.map((user) => user?.email)).toEqual(
      Array.from({ length: 45 }, (_, i) => `user${i + 1}@example.com`),
    );
    // One batch for the first call; 45 keys minus the 3 cached ones in batches of 20.
    expect(summary.queries).toBe(1 + 3);
  });

  it('keeps loader caches per request, and batches without caching outside requests', async () => {
    const users = createLoader(db, { table: 'users', key: 'id' });
    const a = await profileUnitOfWork(async () => {
      await users.load(1);
      await users.load(1);
    });
    const b = await profileUnitOfWork(() => users.load(1));
    expect(a.summary.queries).toBe(1);
    expect(b.summary.queries).toBe(1);
    perf.reset();
    await Promise.all([users.load(1), users.load(2)]);
    await users.load(1);
    expect(perf.report().totalCalls).toBe(2);
  });

  it('loads one-to-many relations in one query, ordered and grouped by parent', async () => {
    const comments = createRelationLoader(db, { table: 'comments', foreignKey: 'post_id', orderBy: 'id' });
    const { result, summary } = await profileUnitOfWork(() => comments.loadMany([3, 1, 404]));
    expect(summary.queries).toBe(1);
    expect(result.map((list) => list.map((c) => c.id))).toEqual([[30, 31, 32], [10, 11, 12], []]);
  });

  it('reports a loader awaited in a loop as an N+1 of that loader', async () => {
    const users = createLoader(db, { table: 'users', key: 'id' });
    await unitOfWork(async () => {
      for (let id = 1; id <= 6; id++) await users.load(id);
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ callSite: 'loader users.id', count: 6 });
    expect(reports[0]!.suggestion).toContain('Promise.all');
  });

  it('treats a request context as an implicit unit of work', async () => {
    await runWithContext({ requestId: 'implicit-1' }, async () => {
      for (let id = 1; id <= 6; id++) await findUser(id);
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ requestId: 'implicit-1', count: 5 });
  });

  it('sees nothing outside a unit of work and request context', async () => {
    for (let id = 1; id <= 10; id++) await findUser(id);
    expect(reports).toEqual([]);
  });

  it('emits slow-query events with fingerprint, call site and request id, never parameter values', async () => {
    const events: SlowQueryEvent[] = [];
    const lines: string[] = [];
    const slowPerf = createDbPerf({
      slowQueryMs: 1000,
      slowQueryOverrides: [{ match: '"email" = ?', thresholdMs: 0 }],
      explainSlowQueries: { maxPerMinute: 100 },
      logger: { warn: (message, fields) => lines.push(JSON.stringify({ message, ...fields })) },
      onSlowQuery: (event) => events.push(event),
    });
    const slowDb = slowPerf.attach(new Kysely<BlogDb>({ dialect: target.makeDialect(), log: slowPerf.log }));
    try {
      const secretEmail = 'secret-token-5f2a9c@example.com';
      const secretId = 987_654_321;
      await runWithContext({ requestId: 'req-slow-1' }, () =>
        slowDb
          .selectFrom('users')
          .selectAll()
          .where('email', '=', secretEmail)
          .where('id', '<>', secretId)
          .execute(),
      );
      await slowDb.selectFrom('posts').selectAll().where('id', '=', 424_242).execute(); // under 1000 ms
      await slowPerf.flush();
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event).toMatchObject({
        type: 'slow-query',
        fingerprint: 'select * from "users" where "email" = ? and "id" <> ?',
        thresholdMs: 0,
        rows: 0,
        requestId: 'req-slow-1',
        dialect: target.dialect,
      });
      expect(event!.callSite).toMatch(/instrumentation\.int\.test\.ts:\d+:\d+/);
      expect(event!.plan?.findings).toEqual(expect.any(Array));
      expect(event!.planError).toBeUndefined();
      expect(lines.some((line) => line.includes('"slow query"'))).toBe(true);
      const everything = JSON.stringify({ events, lines, report: slowPerf.report() });
      expect(everything).not.toContain('secret-token-5f2a9c');
      expect(everything).not.toContain('987654321');
      expect(everything).not.toContain('424242');
      expect(slowPerf.report().queries.find((q) => q.fingerprint.includes('"email"'))).toMatchObject({
        slow: 1,
      });
    } finally {
      await slowDb.destroy();
    }
  });

  it('rate-limits automatic EXPLAINs per fingerprint', async () => {
    const events: SlowQueryEvent[] = [];
    const slowPerf = createDbPerf({
      slowQueryMs: 0,
      explainSlowQueries: true,
      logger: false,
      onSlowQuery: (event) => events.push(event),
    });
    const slowDb = slowPerf.attach(new Kysely<BlogDb>({ dialect: target.makeDialect(), log: slowPerf.log }));
    try {
      for (let id = 1; id <= 3; id++)
        await slowDb.selectFrom('users').selectAll().where('id', '=', id).execute();
      await slowPerf.flush();
      expect(events).toHaveLength(3);
      expect(events.filter((event) => event.plan !== undefined)).toHaveLength(1);
    } finally {
      await slowDb.destroy();
    }
  });

  it('still counts queries when the Kysely instance has no log hook', async () => {
    const warnings: string[] = [];
    const bare = createDbPerf({ logger: { warn: (message) => warnings.push(message) } });
    // One instance with the log hook and one without, on the same db-perf instance.
    const loggedDb = bare.attach(new Kysely<BlogDb>({ dialect: target.makeDialect(), log: bare.log }));
    const bareDb = bare.attach(new Kysely<BlogDb>({ dialect: target.makeDialect() }));
    try {
      await loggedDb.selectFrom('posts').selectAll().where('id', '=', 1).execute();
      await bareDb.selectFrom('users').selectAll().where('id', '=', 1).execute();
      await bareDb.selectFrom('users').selectAll().where('id', '=', 2).execute();
      expect(bare.report({ orderBy: 'calls' }).queries).toEqual([
        expect.objectContaining({ fingerprint: 'select * from "users" where "id" = ?', calls: 2, rows: 2 }),
        expect.objectContaining({ fingerprint: 'select * from "posts" where "id" = ?', calls: 1, rows: 1 }),
      ]);
      expect(warnings).toHaveLength(1);
      expect(bare.attach(bareDb)).toBe(bareDb); // attaching twice adds nothing
    } finally {
      await bareDb.destroy();
      await loggedDb.destroy();
    }
  });

  it('reports slow queries of an instance that has the log hook but no plugin', async () => {
    const events: SlowQueryEvent[] = [];
    const logOnly = createDbPerf({
      slowQueryMs: 0,
      logger: false,
      onSlowQuery: (event) => events.push(event),
    });
    const logDb = new Kysely<BlogDb>({ dialect: target.makeDialect(), log: logOnly.log });
    try {
      await logDb.selectFrom('users').selectAll().where('id', '=', 1).execute();
      expect(events).toEqual([
        expect.objectContaining({ fingerprint: 'select * from "users" where "id" = ?', rows: undefined }),
      ]);
      expect(logOnly.report().totalCalls).toBe(1);
    } finally {
      await logDb.destroy();
    }
  });

  it('rejects invalid options with a typed error', () => {
    expect(() => createDbPerf({ slowQueryMs: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => createDbPerf({ nPlusOne: { threshold: 1 } })).toThrow(/threshold/);
    expect(() => createLoader(db, { table: 'users', key: 'id', maxBatchSize: 0 })).toThrow(/maxBatchSize/);
  });
});
