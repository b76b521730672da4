import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, type ContextManager, context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { runWithContext } from '@plat/core';
import { EventStoreError, EventStoreErrorCode } from '../src';
import { checkExpectedVersion, encodeEvents, prepareEvents } from '../src/append';
import { compareCursors, formatCursor, parseCursor } from '../src/cursor';
import { eventStoreErrorStatus } from '../src/http-status';
import { causingEvent, contextMetadata, loadTraceApi } from '../src/metadata';
import { lockClass, tableNames } from '../src/tables';
import type { RecordedEvent } from '../src/types';
import { UpcasterChain } from '../src/upcasting';

describe('cursors', () => {
  it('parse, format and order by transaction id, then position', () => {
    expect(parseCursor(undefined)).toEqual({ transactionId: 0n, position: 0n });
    expect(parseCursor('12:34')).toEqual({ transactionId: 12n, position: 34n });
    expect(formatCursor(12n, 34)).toBe('12:34');
    expect(compareCursors('5:100', '6:1')).toBe(-1);
    expect(compareCursors('6:2', '6:1')).toBe(1);
    expect(compareCursors('18446744073709551615:1', '18446744073709551614:9')).toBe(1);
    expect(compareCursors('1:1', '1:1')).toBe(0);
  });
  it.each(['', 'x', '1:', ':1', '-1:2', '1:2:3', `${'1'.repeat(21)}:1`, "1:1' or 1=1"])(
    'rejects %p',
    (value) => {
      if (value === '') return expect(parseCursor(value)).toEqual({ transactionId: 0n, position: 0n });
      expect(() => parseCursor(value)).toThrow(EventStoreError);
    },
  );
});

describe('event validation', () => {
  it('assigns ids, lower-cases given ones and serialises once', () => {
    const [a, b] = prepareEvents(
      [
        { type: 'A', data: { x: 1 } },
        { type: 'B', data: null, id: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', schemaVersion: 3 },
      ],
      { actor: 'u1' },
    );
    expect(a!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a!.dataJson).toBe('{"x":1}');
    expect(a!.actor).toBe('u1');
    expect(b).toMatchObject({
      id: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      schemaVersion: 3,
      dataJson: 'null',
    });
  });
  it("serialises the shared metadata once and merges an event's own", () => {
    const shared = { actor: 'u1', requestId: 'r1' };
    const [a, b, c] = prepareEvents(
      [
        { type: 'A', data: 1 },
        { type: 'B', data: 2, metadata: { actor: 'u2', extra: true } },
        { type: 'C', data: 3 },
      ],
      shared,
    );
    expect(a!.metadata).toBe(shared);
    expect(c!.metadataJson).toBe(a!.metadataJson);
    expect(JSON.parse(a!.metadataJson)).toEqual(shared);
    expect(b!.metadata).toEqual({ actor: 'u2', requestId: 'r1', extra: true });
    expect(b!.actor).toBe('u2');
    expect(c!.actor).toBe('u1');
  });
  it('encodes events as one JSON array of tuples that parses back to the same values', () => {
    const events = prepareEvents(
      [
        { type: 'Quote "and" \\ slash', data: { s: 'line\nbreak \u2028 é 😀', n: [1, -2.5, null] } },
        { type: 'B', data: null, schemaVersion: 4, metadata: { actor: 'O\'Brien "x"' } },
      ],
      {},
    );
    expect(JSON.parse(encodeEvents(events))).toEqual([
      [
        events[0]!.id,
        'Quote "and" \\ slash',
        1,
        { s: 'line\nbreak \u2028 é 😀', n: [1, -2.5, null] },
        {},
        null,
      ],
      [events[1]!.id, 'B', 4, null, { actor: 'O\'Brien "x"' }, 'O\'Brien "x"'],
    ]);
    expect(encodeEvents([])).toBe('[]');
  });
  it('refuses bad input with the event index', () => {
    const bad: unknown[] = [
      null,
      { type: 1, data: 1 },
      { type: 'x'.repeat(300), data: 1 },
      { type: 'A', data: 1, schemaVersion: 0 },
      { type: 'A', data: () => 1 },
      { type: 'A', data: 1, metadata: [] },
    ];
    for (const event of bad) {
      try {
        prepareEvents([{ type: 'ok', data: 1 }, event as never], {});
        throw new Error('accepted');
      } catch (error) {
        expect(error).toMatchObject({ code: 'INVALID_EVENT', details: { index: 1 } });
      }
    }
    const id = '0b7e3c6a-0000-4000-8000-000000000000';
    expect(() =>
      prepareEvents(
        [
          { type: 'A', data: 1, id },
          { type: 'A', data: 2, id },
        ],
        {},
      ),
    ).toThrow(/twice/);
    expect(() => prepareEvents('nope' as never, {})).toThrow(EventStoreError);
  });
  it('checks expected versions', () => {
    for (const ok of ['any', 'no_stream', 'stream_exists', 0, 7]) expect(checkExpectedVersion(ok)).toBe(ok);
    for (const bad of [-1, 1.5, '3', null, Number.NaN, 2 ** 60]) {
      expect(() => checkExpectedVersion(bad)).toThrow(EventStoreError);
    }
  });
});

describe('upcasters', () => {
  const event = (type: string, schemaVersion: number, data: unknown): RecordedEvent => ({
    id: 'x',
    streamId: 's',
    version: 1,
    position: 1,
    checkpoint: '0:1',
    type,
    data,
    metadata: {},
    schemaVersion,
    recordedAt: new Date(0),
  });
  it('chains versions and renames', () => {
    const chain = new UpcasterChain([
      { type: 'A', fromSchemaVersion: 1, upcast: (d) => ({ ...(d as object), v2: true }) },
      { type: 'A', fromSchemaVersion: 2, upcast: (d) => ({ ...(d as object), v3: true }) },
      { type: 'Old', fromSchemaVersion: 1, toType: 'A', upcast: (d) => d },
    ]);
    expect(chain.apply(event('A', 1, {}))).toMatchObject({ schemaVersion: 3, data: { v2: true, v3: true } });
    expect(chain.apply(event('A', 3, { same: 1 }))).toMatchObject({ schemaVersion: 3, data: { same: 1 } });
    expect(chain.apply(event('Old', 1, {}))).toMatchObject({
      type: 'A',
      schemaVersion: 3,
      data: { v3: true },
    });
  });
  it('refuses duplicates, bad versions and cycles', () => {
    const up = { type: 'A', fromSchemaVersion: 1, upcast: (d: unknown) => d };
    expect(() => new UpcasterChain([up, up])).toThrow(/two upcasters/);
    expect(() => new UpcasterChain([{ ...up, fromSchemaVersion: 0 }])).toThrow(/fromSchemaVersion/);
    const cycle = new UpcasterChain(
      Array.from({ length: 1001 }, (_, i) => ({
        type: 'C',
        fromSchemaVersion: i + 1,
        upcast: (d: unknown) => d,
      })),
    );
    expect(() => cycle.apply(event('C', 1, {}))).toThrow(/cycle/);
  });
});

/** A minimal OpenTelemetry context manager on AsyncLocalStorage (what the SDK's does). */
class AlsContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

describe('metadata', () => {
  it('is empty outside any context', () => {
    expect(contextMetadata(undefined)).toEqual({});
  });

  it('takes the trace id from the active OpenTelemetry span', async () => {
    await loadTraceApi();
    context.setGlobalContextManager(new AlsContextManager());
    try {
      const span = trace.wrapSpanContext({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
      });
      const metadata = context.with(trace.setSpan(context.active(), span), () =>
        runWithContext({ requestId: 'r-9' }, () => contextMetadata(undefined, { a: 1 }, undefined, { a: 2 })),
      );
      expect(metadata).toEqual({
        requestId: 'r-9',
        correlationId: 'r-9',
        causationId: 'r-9',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        a: 2,
      });
    } finally {
      context.disable();
    }
  });

  it('follows the causing event inside handlers', () => {
    const cause = { id: 'e-1', metadata: { correlationId: 'corr-1', actor: 'svc' } };
    const metadata = runWithContext({ requestId: 'job' }, () => {
      causingEvent.set(cause);
      return contextMetadata(undefined);
    });
    expect(metadata).toMatchObject({
      causationId: 'e-1',
      correlationId: 'corr-1',
      actor: 'svc',
      requestId: 'job',
    });
  });
});

describe('tables and statuses', () => {
  it('derives names and a stable lock class from the prefix', () => {
    expect(tableNames('es_')).toMatchObject({ events: 'es_events', migrationLock: 'es_migration_lock' });
    expect(() => tableNames('Bad-Prefix')).toThrow(EventStoreError);
    expect(lockClass(tableNames('es_'))).toBe(lockClass(tableNames('es_')));
    expect(lockClass(tableNames('es_'))).not.toBe(lockClass(tableNames('other_')));
    expect(Math.abs(lockClass(tableNames('es_')))).toBeLessThan(2 ** 31);
  });
  it('maps every code to a status', () => {
    for (const code of Object.values(EventStoreErrorCode)) {
      expect(eventStoreErrorStatus(new EventStoreError(code, 'x'))).toBeGreaterThanOrEqual(400);
    }
  });
});

describe('generated event ids', () => {
  it('are UUID v7, time-ordered and unique', async () => {
    const { uuidv7 } = await import('../src/uuid');
    const ids = Array.from({ length: 2000 }, (_, i) => uuidv7(1_700_000_000_000 + Math.floor(i / 10)));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]!.slice(0, 13)).toBe('018bcfe5-6800');
    const prefixes = ids.map((id) => id.slice(0, 13));
    expect([...prefixes].sort()).toEqual(prefixes);
  });
});

describe('database failures', () => {
  it('surface as STORAGE_FAILED with the driver error as cause, without crashing', async () => {
    const { freePort } = await import('@plat/testkit');
    const { Kysely, PostgresDialect } = await import('kysely');
    const pg = (await import('pg')).default;
    const { createEventStore } = await import('../src');
    const port = await freePort();
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ host: '127.0.0.1', port, user: 'nobody', connectionTimeoutMillis: 2000 }),
      }),
    });
    const store = createEventStore({ db });
    try {
      const error = await store.append('s-1', [{ type: 'A', data: 1 }]).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STORAGE_FAILED' });
      expect(String((error as Error).cause)).toMatch(/ECONNREFUSED|connect/);
      await expect(store.readAll()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
      await expect(store.migrate()).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    } finally {
      await store.close();
      await db.destroy();
    }
  });
});
