import { createClient } from 'redis';
import {
  deleteByPrefix,
  describeWithCommand,
  describeWithDatabases,
  describeWithPostgres,
  describeWithRedis,
  startRedisServer,
} from '../src';

describeWithDatabases<{ notes: { id: number; body: string } }>('testkit databases', (t) => {
  it('gives a working Kysely instance on each dialect', async () => {
    await t.db.schema
      .createTable('notes')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('body', 'text')
      .execute();
    await t.db.insertInto('notes').values({ id: 1, body: 'hello' }).execute();
    const rows = await t.db.selectFrom('notes').selectAll().execute();
    expect(rows).toEqual([{ id: 1, body: 'hello' }]);
  });
});

describeWithPostgres('testkit postgres isolation', (db) => {
  it('pins connections to this file’s own schema', async () => {
    const { rows } = await db.pool.query<{ schema: string }>('select current_schema() as schema');
    expect(rows[0]?.schema).toBe(db.schema);
    expect(db.schema).toMatch(/^t_services_int_/);
    expect(new URL(db.url).searchParams.get('options')).toBe(`-c search_path=${db.schema}`);
  });

  it('keeps tables out of the public schema', async () => {
    await db.pool.query('create table isolation_probe (id int)');
    const { rows } = await db.pool.query<{ n: string }>(
      "select count(*) as n from information_schema.tables where table_name = 'isolation_probe' and table_schema = 'public'",
    );
    expect(rows[0]?.n).toBe('0');
  });
});

describeWithRedis('testkit redis isolation', (redis) => {
  it('hands out a prefix and cleans it with SCAN + UNLINK', async () => {
    expect(redis.prefix).toMatch(/^t_services_int_\w+:$/);
    for (let i = 0; i < 25; i++) await redis.client.set(`${redis.prefix}k${i}`, String(i));
    await redis.client.set('outside-prefix-probe', 'keep');
    expect(await deleteByPrefix(redis.client, redis.prefix)).toBe(25);
    expect(await redis.client.get('outside-prefix-probe')).toBe('keep');
    await redis.client.del('outside-prefix-probe');
  });
});

describeWithCommand('redis-server', 'startRedisServer', () => {
  it('runs a private server that stops for good', async () => {
    const server = await startRedisServer();
    const client = createClient({ url: server.url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    expect(server.port).not.toBe(6379);
    await server.stop();
    await expect(client.ping()).rejects.toThrow();
    await server.stop(); // idempotent
  });
});
