/**
 * One conformance suite, run on SQLite (always) and PostgreSQL (with PLAT_TEST_PG_URL).
 */
import { isPlatError, runWithContext } from '@plat/core';
import { describeWithDatabases } from '@plat/testkit';
import { type Kysely, sql } from 'kysely';
import {
  type AsyncProjection,
  createEventStore,
  type EventStore,
  EventStoreError,
  type RecordedEvent,
  type Upcaster,
} from '../src';

interface Cart {
  items: string[];
  total: number;
  closed: boolean;
}
const initialCart = (): Cart => ({ items: [], total: 0, closed: false });
const evolveCart = (cart: Cart, event: RecordedEvent): Cart => {
  const data = event.data as { sku?: string; price?: number };
  switch (event.type) {
    case 'ItemAdded':
      return { ...cart, items: [...cart.items, data.sku!], total: cart.total + (data.price ?? 0) };
    case 'ItemRemoved':
      return { ...cart, items: cart.items.filter((s) => s !== data.sku) };
    case 'CartClosed':
      return { ...cart, closed: true };
    default:
      return cart;
  }
};

async function expectCode(promise: Promise<unknown>, code: string): Promise<EventStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(isPlatError(error, code)).toBe(true);
    return error as EventStoreError;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithDatabases<unknown>('event store conformance', (t) => {
  let store: EventStore;
  let n = 0;
  const stream = (kind = 'cart') => `${kind}-${++n}`;

  const upcasters: Upcaster[] = [
    // v1 stored price in cents as `cents`; v2 is `price` in units.
    { type: 'ItemAdded', fromSchemaVersion: 1, upcast: (data) => upcastCents(data) },
    { type: 'LegacyAdded', fromSchemaVersion: 1, toType: 'ItemAdded', upcast: (data) => upcastCents(data) },
  ];
  function upcastCents(data: unknown) {
    const d = data as { sku: string; cents?: number; price?: number };
    return d.cents === undefined ? d : { sku: d.sku, price: d.cents / 100 };
  }

  beforeAll(async () => {
    store = createEventStore({ db: t.db, upcasters });
    expect(await store.migrate()).toEqual(
      store.dialect === 'postgres' ? ['0001_event_store', '0002_append_json'] : ['0001_event_store'],
    );
    expect(await store.migrate()).toEqual([]);
  });
  afterAll(() => store.close());

  describe('expected version', () => {
    it("'no_stream' creates a stream once, then refuses", async () => {
      const id = stream();
      const first = await store.append(id, [{ type: 'ItemAdded', data: { sku: 'a' } }], {
        expectedVersion: 'no_stream',
      });
      expect(first).toMatchObject({ streamId: id, nextExpectedVersion: 1, idempotent: false });
      const error = await expectCode(
        store.append(id, [{ type: 'ItemAdded', data: { sku: 'b' } }], { expectedVersion: 'no_stream' }),
        'WRONG_EXPECTED_VERSION',
      );
      expect(error.details).toMatchObject({ streamId: id, expectedVersion: 'no_stream', actualVersion: 1 });
    });

    it("'stream_exists' refuses a missing stream and accepts an existing one", async () => {
      const id = stream();
      const error = await expectCode(
        store.append(id, [{ type: 'ItemAdded', data: {} }], { expectedVersion: 'stream_exists' }),
        'WRONG_EXPECTED_VERSION',
      );
      expect(error.details).toMatchObject({ actualVersion: 0 });
      await store.append(id, [{ type: 'ItemAdded', data: { sku: 'a' } }]);
      const ok = await store.append(id, [{ type: 'ItemAdded', data: { sku: 'b' } }], {
        expectedVersion: 'stream_exists',
      });
      expect(ok.nextExpectedVersion).toBe(2);
      expect((await store.readStream(id)).version).toBe(2);
    });

    it('a number must match exactly; 0 means no events yet', async () => {
      const id = stream();
      await expectCode(
        store.append(id, [{ type: 'ItemAdded', data: {} }], { expectedVersion: 1 }),
        'WRONG_EXPECTED_VERSION',
      );
      expect(
        (await store.append(id, [{ type: 'A', data: 1 }], { expectedVersion: 0 })).nextExpectedVersion,
      ).toBe(1);
      await expectCode(
        store.append(id, [{ type: 'A', data: 2 }], { expectedVersion: 0 }),
        'WRONG_EXPECTED_VERSION',
      );
      const stale = await expectCode(
        store.append(id, [{ type: 'A', data: 2 }], { expectedVersion: 2 }),
        'WRONG_EXPECTED_VERSION',
      );
      expect(stale.details).toMatchObject({ expectedVersion: 2, actualVersion: 1 });
      const ok = await store.append(
        id,
        [
          { type: 'A', data: 2 },
          { type: 'A', data: 3 },
        ],
        { expectedVersion: 1 },
      );
      expect(ok.nextExpectedVersion).toBe(3);
      const versions = (await store.readStream(id)).events.map((e) => [e.version, e.data]);
      expect(versions).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
    });

    it("'any' appends whatever the state and concurrent optimistic writers get exactly one winner", async () => {
      const id = stream();
      await store.append(id, [{ type: 'A', data: 0 }], { expectedVersion: 'any' });
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.append(id, [{ type: 'A', data: i }], { expectedVersion: 1 }),
        ),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const failed of attempts.filter((a) => a.status === 'rejected')) {
        expect(isPlatError(failed.reason, 'WRONG_EXPECTED_VERSION')).toBe(true);
      }
      const anys = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.append(id, [{ type: 'B', data: i }], { expectedVersion: 'any' }),
        ),
      );
      expect(new Set(anys.map((a) => a.nextExpectedVersion)).size).toBe(8);
      const slice = await store.readStream(id);
      expect(slice.version).toBe(10);
      expect(slice.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('rejects malformed expected versions and events without writing', async () => {
      const id = stream();
      await expectCode(
        store.append(id, [{ type: 'A', data: 1 }], { expectedVersion: -1 as number }),
        'INVALID_ARGUMENT',
      );
      await expectCode(store.append(id, [{ type: '', data: 1 }]), 'INVALID_EVENT');
      await expectCode(store.append(id, [{ type: '$deleted', data: 1 }]), 'INVALID_EVENT');
      await expectCode(store.append(id, [{ type: 'A', data: undefined }]), 'INVALID_EVENT');
      await expectCode(store.append(id, [{ type: 'A', data: { n: 1n } }]), 'INVALID_EVENT');
      await expectCode(store.append(id, [{ type: 'A', data: 1, id: 'not-a-uuid' }]), 'INVALID_EVENT');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expectCode(
        store.append(id, [
          { type: 'A', data: 1 },
          { type: 'A', data: cyclic },
        ]),
        'INVALID_EVENT',
      );
      await expectCode(store.append('', [{ type: 'A', data: 1 }]), 'INVALID_ARGUMENT');
      expect((await store.readStream(id)).exists).toBe(false);
    });

    it('an empty append checks the expected version and writes nothing', async () => {
      const id = stream();
      expect(await store.append(id, [], { expectedVersion: 'no_stream' })).toMatchObject({
        nextExpectedVersion: 0,
      });
      await expectCode(store.append(id, [], { expectedVersion: 'stream_exists' }), 'WRONG_EXPECTED_VERSION');
      await store.append(id, [{ type: 'A', data: 1 }]);
      expect(await store.append(id, [], { expectedVersion: 1 })).toMatchObject({ nextExpectedVersion: 1 });
    });
  });

  describe('idempotency', () => {
    it('re-appending the same event ids returns the first result and writes nothing', async () => {
      const id = stream();
      await store.append(id, [{ type: 'A', data: 0 }]);
      const events = [1, 2].map((i) => ({
        id: `0c${String(n).padStart(6, '0')}-1f0b-4a4e-9a53-00000000000${i}`,
        type: 'A',
        data: i,
      }));
      const first = await store.append(id, events, { expectedVersion: 1 });
      expect(first).toMatchObject({ nextExpectedVersion: 3, idempotent: false });
      for (const expectedVersion of [1, 'any', 'stream_exists'] as const) {
        const again = await store.append(id, events, { expectedVersion });
        expect(again).toEqual({ ...first, idempotent: true });
      }
      expect((await store.readStream(id)).events).toHaveLength(3);
    });

    it('an id reused for a different stream or a partial overlap is DUPLICATE_EVENT_ID', async () => {
      const a = stream();
      const b = stream();
      const eventId = `0d${String(n).padStart(6, '0')}-0000-4000-8000-000000000001`;
      await store.append(a, [{ id: eventId, type: 'A', data: 1 }]);
      await expectCode(store.append(b, [{ id: eventId, type: 'A', data: 1 }]), 'DUPLICATE_EVENT_ID');
      await expectCode(
        store.append(a, [
          { id: eventId, type: 'A', data: 1 },
          { type: 'A', data: 2 },
        ]),
        'DUPLICATE_EVENT_ID',
      );
      expect((await store.readStream(a)).events).toHaveLength(1);
      expect((await store.readStream(b)).exists).toBe(false);
    });
  });

  describe('reading', () => {
    let id: string;
    beforeAll(async () => {
      id = stream('read');
      await store.append(
        id,
        Array.from({ length: 20 }, (_, i) => ({ type: i % 2 === 0 ? 'Even' : 'Odd', data: { i: i + 1 } })),
      );
    });

    it('reads version ranges forwards and backwards', async () => {
      const versions = async (options: Parameters<EventStore['readStream']>[1]) =>
        (await store.readStream(id, options)).events.map((e) => e.version);
      expect(await versions({})).toHaveLength(20);
      expect(await versions({ fromVersion: 5, toVersion: 8 })).toEqual([5, 6, 7, 8]);
      expect(await versions({ fromVersion: 18 })).toEqual([18, 19, 20]);
      expect(await versions({ maxCount: 3 })).toEqual([1, 2, 3]);
      expect(await versions({ backwards: true, maxCount: 3 })).toEqual([20, 19, 18]);
      expect(await versions({ backwards: true, fromVersion: 5, toVersion: 3 })).toEqual([5, 4, 3]);
      expect(await versions({ fromVersion: 21 })).toEqual([]);
      const slice = await store.readStream(id, { fromVersion: 21 });
      expect(slice).toMatchObject({ version: 20, exists: true, deleted: false });
      expect(await store.readStream(stream('none'))).toMatchObject({ version: 0, exists: false, events: [] });
      await expectCode(store.readStream(id, { fromVersion: -1 }), 'INVALID_ARGUMENT');
    });

    it('returns events with every field', async () => {
      const [event] = (await store.readStream(id, { maxCount: 1 })).events;
      expect(event).toMatchObject({
        streamId: id,
        version: 1,
        type: 'Even',
        data: { i: 1 },
        schemaVersion: 1,
      });
      expect(event!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(event!.position).toBeGreaterThan(0);
      expect(event!.checkpoint).toMatch(/^\d+:\d+$/);
      expect(event!.recordedAt).toBeInstanceOf(Date);
    });

    it('pages the global log with filters and never repeats or skips', async () => {
      const all: RecordedEvent[] = [];
      let after: string | undefined;
      for (let guard = 0; guard < 1000; guard++) {
        const page = await store.readAll({ limit: 7, ...(after === undefined ? {} : { after }) });
        all.push(...page.events);
        after = page.next;
        if (page.caughtUp) break;
      }
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
      const mine = all.filter((e) => e.streamId === id).map((e) => e.version);
      expect(mine).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const odd = await store.readAll({ types: ['Odd'], streamPrefix: id, limit: 100 });
      expect(odd.events.map((e) => e.version)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
      expect(odd.caughtUp).toBe(true);
      // Prefix matching is literal: `_` and `%` are not wildcards.
      expect((await store.readAll({ streamPrefix: 'read%', limit: 10 })).events).toEqual([]);
      // After a filtered page, `next` is past everything read, so the next page does not rescan.
      const after2 = await store.readAll({ after: odd.next, types: ['Odd'], streamPrefix: id });
      expect(after2.events).toEqual([]);
      await expectCode(store.readAll({ after: 'garbage' }), 'INVALID_ARGUMENT');
      await expectCode(store.readAll({ limit: 0 }), 'INVALID_ARGUMENT');
    });
  });

  describe('what an append carries', () => {
    it('round-trips awkward JSON, types and actors exactly', async () => {
      const id = stream('json');
      const data: unknown[] = [
        {
          text: 'quote " backslash \\ newline \n tab \t',
          unicode: 'é中😀\u2028\u2029',
          nested: { list: [1, 2.5, -0.125, 1e21, true, false, null], empty: {} },
        },
        'a plain string',
        12_345_678_901_234,
        null,
        [],
      ];
      const actor = 'O\'Brien "the actor" \\';
      await store.append(
        id,
        data.map((d, i) => ({
          type: i === 0 ? 'Type "quoted" \\ é' : 'Plain',
          data: d,
          ...(i === 1 ? { metadata: { actor, note: 'x"y' } } : {}),
        })),
      );
      const { events } = await store.readStream(id);
      expect(events.map((e) => e.data)).toEqual(data);
      expect(events[0]!.type).toBe('Type "quoted" \\ é');
      expect(events[1]!.metadata).toMatchObject({ actor, note: 'x"y' });
      const audit = await store.auditLog({ actor, streamPrefix: id });
      expect(audit.entries.map((e) => e.version)).toEqual([2]);
    });

    it('answers each append with the position of its own last event, under concurrent appends', async () => {
      const prefix = stream('positions');
      const results = await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          const out: Array<{ id: string; version: number; position: number }> = [];
          for (let k = 0; k < 5; k++) {
            const id = `${prefix}-${w}`;
            const result = await store.append(
              id,
              Array.from({ length: 1 + ((w + k) % 4) }, (_, i) => ({ type: 'P', data: { w, k, i } })),
            );
            out.push({ id, version: result.nextExpectedVersion, position: result.position });
          }
          return out;
        }),
      );
      for (const result of results.flat()) {
        const [last] = (await store.readStream(result.id, { fromVersion: result.version, maxCount: 1 }))
          .events;
        expect(last).toMatchObject({ version: result.version, position: result.position });
      }
    });

    it('appends a batch too large for one jsonb value, with the same result', async () => {
      const id = stream('big');
      const blob = 'x'.repeat(60_000);
      // 300 events of 60 kB: past the 16 MiB of JSON above which the text-array path takes over.
      const events = Array.from({ length: 300 }, (_, i) => ({ type: 'Big', data: { i, blob } }));
      const result = await store.append(id, events, { expectedVersion: 'no_stream' });
      expect(result.nextExpectedVersion).toBe(300);
      const tail = await store.readStream(id, { fromVersion: 299 });
      expect(tail.events.map((e) => (e.data as { i: number }).i)).toEqual([298, 299]);
      expect(tail.events[1]!.position).toBe(result.position);
      expect((tail.events[0]!.data as { blob: string }).blob).toHaveLength(60_000);
      // A retry of the same big append is idempotent, as any other.
      const ids = (await store.readStream(id)).events.map((e) => e.id);
      const again = await store.append(
        id,
        events.map((e, i) => ({ ...e, id: ids[i]! })),
        { expectedVersion: 'no_stream' },
      );
      expect(again).toMatchObject({ idempotent: true, nextExpectedVersion: 300, position: result.position });
    });

    it('reads recordedAt as the stored time, truncated to the millisecond', async () => {
      const id = stream('time');
      await store.append(id, [{ type: 'T', data: 1 }]);
      const [event] = (await store.readStream(id)).events;
      if (store.dialect === 'postgres') {
        // Formatted by the server (to_char truncates to milliseconds), not parsed from epoch numbers.
        const { rows } = await sql<{ iso: string }>`
          select to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as iso
          from es_events where stream_id = ${id}`.execute(t.db);
        expect(event!.recordedAt.toISOString()).toBe(rows[0]!.iso);
      } else {
        const { rows } = await sql<{ ms: number }>`
          select recorded_at as ms from es_events where stream_id = ${id}`.execute(t.db);
        expect(event!.recordedAt.getTime()).toBe(rows[0]!.ms);
      }
      const [fromLog] = (await store.readAll({ types: ['T'], streamPrefix: id })).events;
      expect(fromLog!.recordedAt.getTime()).toBe(event!.recordedAt.getTime());
    });
  });

  describe('upcasting', () => {
    it('lifts old schema versions on every read path, renaming types when asked', async () => {
      const id = stream();
      await store.append(id, [
        { type: 'ItemAdded', data: { sku: 'old', cents: 250 }, schemaVersion: 1 },
        { type: 'ItemAdded', data: { sku: 'new', price: 3 }, schemaVersion: 2 },
        { type: 'LegacyAdded', data: { sku: 'legacy', cents: 100 } },
      ]);
      const { events } = await store.readStream(id);
      expect(events.map((e) => [e.type, e.schemaVersion, e.data])).toEqual([
        ['ItemAdded', 2, { sku: 'old', price: 2.5 }],
        ['ItemAdded', 2, { sku: 'new', price: 3 }],
        ['ItemAdded', 2, { sku: 'legacy', price: 1 }],
      ]);
      const fromLog = (await store.readAll({ streamPrefix: id })).events;
      expect(fromLog.map((e) => e.data)).toEqual(events.map((e) => e.data));
      const { state } = await store.aggregateStream(id, { evolve: evolveCart, initialState: initialCart });
      expect(state.total).toBe(6.5);
      // The stored rows are untouched.
      const raw = await sql<{ data: unknown }>`select data from ${sql.id(store.tables.events)}
        where stream_id = ${id} order by version`.execute(t.db);
      const first = raw.rows[0]!.data;
      expect(typeof first === 'string' ? JSON.parse(first) : first).toEqual({ sku: 'old', cents: 250 });
    });
  });

  describe('replay, snapshots and time travel', () => {
    it('a replay from snapshots equals a full replay at every version', async () => {
      const id = stream();
      for (let i = 1; i <= 37; i++) {
        const type = i % 5 === 0 ? 'ItemRemoved' : 'ItemAdded';
        await store.append(id, [{ type, data: { sku: `s${i % 5 === 0 ? i - 1 : i}`, price: i } }]);
      }
      const snapshot = { name: 'cart-v1', every: 10 };
      const full = await store.aggregateStream(id, { evolve: evolveCart, initialState: initialCart });
      expect(full).toMatchObject({ version: 37, snapshotVersion: undefined, eventsApplied: 37 });
      const first = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        snapshot,
      });
      expect(first.state).toEqual(full.state);
      const second = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        snapshot,
      });
      expect(second).toMatchObject({ state: full.state, version: 37, snapshotVersion: 30, eventsApplied: 7 });
      for (const version of [0, 1, 9, 10, 11, 29, 30, 31, 36]) {
        const plain = await store.aggregateStream(id, {
          evolve: evolveCart,
          initialState: initialCart,
          upTo: { version },
        });
        const fast = await store.aggregateStream(id, {
          evolve: evolveCart,
          initialState: initialCart,
          upTo: { version },
          snapshot,
        });
        expect(fast.state).toEqual(plain.state);
        expect(fast.version).toBe(version);
        expect(plain.version).toBe(version);
      }
      // Replays to 15 and 25 stored snapshots at 10 and 20: a replay to 25 now starts from 20.
      const at25 = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        upTo: { version: 25 },
        snapshot,
      });
      expect(at25.snapshotVersion).toBe(20);
      // A renamed snapshot (new state shape) ignores the old ones.
      const renamed = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        snapshot: { name: 'cart-v2', every: 10 },
      });
      expect(renamed.snapshotVersion).toBeUndefined();
      expect(renamed.state).toEqual(full.state);
    });

    it('replays a stream longer than one page (10,000 events), with and without snapshots', async () => {
      const id = stream('long');
      const total = 10_050;
      for (let version = 0; version < total; version += 5_000) {
        const count = Math.min(5_000, total - version);
        await store.append(
          id,
          Array.from({ length: count }, (_, i) => ({
            type: 'ItemAdded',
            data: { sku: `s${version + i + 1}`, price: 1 },
          })),
          { expectedVersion: version },
        );
      }
      const count = (cart: { n: number; last: number }, event: RecordedEvent) => ({
        n: cart.n + 1,
        last: event.version === cart.last + 1 ? event.version : -1,
      });
      const initialState = () => ({ n: 0, last: 0 });
      const full = await store.aggregateStream(id, { evolve: count, initialState });
      expect(full).toMatchObject({ state: { n: total, last: total }, version: total, eventsApplied: total });
      const bounded = await store.aggregateStream(id, {
        evolve: count,
        initialState,
        upTo: { version: 10_020 },
      });
      expect(bounded).toMatchObject({ state: { n: 10_020, last: 10_020 }, version: 10_020 });
      const snapshot = { name: 'count-v1', every: 10_000 };
      await store.aggregateStream(id, { evolve: count, initialState, snapshot });
      const fromSnapshot = await store.aggregateStream(id, { evolve: count, initialState, snapshot });
      expect(fromSnapshot).toMatchObject({
        state: full.state,
        version: total,
        snapshotVersion: 10_000,
        eventsApplied: 50,
      });
    });

    it('replays to a point in time', async () => {
      const id = stream();
      await store.append(id, [{ type: 'ItemAdded', data: { sku: 'a', price: 1 } }]);
      await sleep(30);
      const middle = new Date();
      await sleep(30);
      await store.append(id, [{ type: 'ItemAdded', data: { sku: 'b', price: 2 } }]);
      await store.append(id, [{ type: 'CartClosed', data: {} }]);
      const then = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        upTo: { time: middle },
      });
      expect(then).toMatchObject({ version: 1, state: { items: ['a'], total: 1, closed: false } });
      const now = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        upTo: { time: new Date(Date.now() + 60_000).toISOString() },
      });
      expect(now).toMatchObject({ version: 3, state: { items: ['a', 'b'], closed: true } });
      const before = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        upTo: { time: 0 },
      });
      expect(before).toMatchObject({ version: 0, state: initialCart() });
      await expectCode(
        store.aggregateStream(id, {
          evolve: evolveCart,
          initialState: initialCart,
          upTo: { time: 'yesterday-ish' },
        }),
        'INVALID_ARGUMENT',
      );
    });
  });

  describe('metadata from the request context', () => {
    it('records actor, request, correlation and causation ids', async () => {
      const id = stream();
      await runWithContext({ requestId: 'req-77', principal: { id: 'user_7', tenantId: 'acme' } }, () =>
        store.append(id, [{ type: 'A', data: 1, metadata: { note: 'x' } }], { metadata: { source: 'test' } }),
      );
      const [event] = (await store.readStream(id)).events;
      expect(event!.metadata).toEqual({
        actor: 'user_7',
        tenantId: 'acme',
        requestId: 'req-77',
        correlationId: 'req-77',
        causationId: 'req-77',
        source: 'test',
        note: 'x',
      });
      await store.append(id, [{ type: 'B', data: 2 }], { causedBy: event! });
      const second = (await store.readStream(id)).events[1]!;
      expect(second.metadata).toMatchObject({
        causationId: event!.id,
        correlationId: 'req-77',
        actor: 'user_7',
      });
    });
  });

  describe('stream lifecycle and audit', () => {
    it('soft-deletes with a tombstone event, keeps history, refuses appends', async () => {
      const id = stream();
      await store.append(id, [{ type: 'ItemAdded', data: { sku: 'a' } }]);
      await expectCode(store.deleteStream(id, { expectedVersion: 5 }), 'WRONG_EXPECTED_VERSION');
      await runWithContext({ principal: { id: 'admin_1' } }, () =>
        store.deleteStream(id, { expectedVersion: 1, reason: 'GDPR request' }),
      );
      await expectCode(store.readStream(id), 'STREAM_DELETED');
      await expectCode(store.append(id, [{ type: 'A', data: 1 }]), 'STREAM_DELETED');
      await expectCode(
        store.append(id, [{ type: 'A', data: 1 }], { expectedVersion: 'no_stream' }),
        'STREAM_DELETED',
      );
      const slice = await store.readStream(id, { includeDeleted: true });
      expect(slice).toMatchObject({ deleted: true, version: 2 });
      expect(slice.events.at(-1)).toMatchObject({ type: '$deleted', data: { reason: 'GDPR request' } });
      const { entries } = await store.auditLog({ streamPrefix: id });
      expect(entries.map((e) => [e.type, e.actor])).toEqual([
        ['$deleted', 'admin_1'],
        ['ItemAdded', undefined],
      ]);
      const replay = await store.aggregateStream(id, {
        evolve: evolveCart,
        initialState: initialCart,
        includeDeleted: true,
      });
      expect(replay).toMatchObject({ version: 2, eventsApplied: 1, state: { items: ['a'] } });
      await expectCode(
        store.aggregateStream(id, { evolve: evolveCart, initialState: initialCart }),
        'STREAM_DELETED',
      );
      await expectCode(
        store.aggregateStream(id, { evolve: evolveCart, initialState: initialCart, upTo: { version: 1 } }),
        'STREAM_DELETED',
      );
      await expectCode(store.deleteStream(stream()), 'WRONG_EXPECTED_VERSION');
    });

    it('archives: read-only, still readable', async () => {
      const id = stream();
      await store.append(id, [{ type: 'A', data: 1 }]);
      await store.archiveStream(id);
      await expectCode(store.append(id, [{ type: 'A', data: 2 }]), 'STREAM_ARCHIVED');
      const slice = await store.readStream(id);
      expect(slice).toMatchObject({ archived: true, deleted: false, version: 2 });
    });

    it('filters the audit log by actor, types, time and pages it', async () => {
      const id = stream('audit');
      const start = new Date(Date.now() - 1000);
      for (const actor of ['alice', 'bob', 'alice', 'carol', 'alice']) {
        await runWithContext({ principal: { id: actor }, requestId: `r-${actor}` }, () =>
          store.append(id, [{ type: actor === 'bob' ? 'Refund' : 'Order', data: { actor } }]),
        );
      }
      const alice = await store.auditLog({ actor: 'alice', streamPrefix: id });
      expect(alice.entries.map((e) => e.version)).toEqual([5, 3, 1]);
      expect(alice.entries[0]).toMatchObject({ actor: 'alice', requestId: 'r-alice', type: 'Order' });
      const ascending = await store.auditLog({ actor: 'alice', streamPrefix: id, ascending: true, limit: 2 });
      expect(ascending.entries.map((e) => e.version)).toEqual([1, 3]);
      const rest = await store.auditLog({
        actor: 'alice',
        streamPrefix: id,
        ascending: true,
        limit: 2,
        cursor: ascending.next!,
      });
      expect(rest.entries.map((e) => e.version)).toEqual([5]);
      expect(rest.next).toBeUndefined();
      expect((await store.auditLog({ streamPrefix: id, types: ['Refund'] })).entries).toHaveLength(1);
      expect((await store.auditLog({ streamPrefix: id, from: start })).entries).toHaveLength(5);
      expect((await store.auditLog({ streamPrefix: id, to: start })).entries).toHaveLength(0);
      await expectCode(store.auditLog({ from: 'not a date' }), 'INVALID_ARGUMENT');
      await expectCode(store.auditLog({ cursor: '1; drop table x' }), 'INVALID_ARGUMENT');
    });
  });

  describe('transactions and inline projections', () => {
    it('appends to several streams atomically and rolls back together', async () => {
      const a = stream('tx');
      const b = stream('tx');
      await expect(
        store.transaction(async (tx) => {
          await tx.append(a, [{ type: 'Debited', data: 5 }]);
          await tx.append(b, [{ type: 'Credited', data: 5 }]);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect((await store.readStream(a)).exists).toBe(false);
      expect((await store.readStream(b)).exists).toBe(false);
      await store.transaction(async (tx) => {
        await tx.lockStreams([b, a, a]);
        await tx.append(a, [{ type: 'Debited', data: 5 }], { expectedVersion: 'no_stream' });
        await tx.append(b, [{ type: 'Credited', data: 5 }], { expectedVersion: 'no_stream' });
      });
      expect((await store.readStream(a)).version).toBe(1);
      expect((await store.readStream(b)).version).toBe(1);
    });

    it('runs inline projections in the append transaction; a failing projection rolls the append back', async () => {
      const table = `inline_${t.dialect}`;
      await sql`create table ${sql.id(table)} (stream_id text primary key, count integer not null)`.execute(
        t.db,
      );
      const inlineStore = createEventStore({
        db: t.db,
        inlineProjections: [
          {
            name: 'counts',
            types: ['Counted'],
            async apply(events, trx) {
              for (const event of events) {
                if ((event.data as { fail?: boolean }).fail) throw new Error('projection refused');
                await sql`insert into ${sql.id(table)} (stream_id, count) values (${event.streamId}, 1)
                  on conflict (stream_id) do update set count = ${sql.id(table)}.count + 1`.execute(trx);
              }
            },
          },
        ],
      });
      const id = stream('inline');
      await inlineStore.append(id, [
        { type: 'Counted', data: {} },
        { type: 'Ignored', data: {} },
        { type: 'Counted', data: {} },
      ]);
      await expect(inlineStore.append(id, [{ type: 'Counted', data: { fail: true } }])).rejects.toThrow(
        'projection refused',
      );
      const { rows } = await sql<{
        count: number;
      }>`select count from ${sql.id(table)} where stream_id = ${id}`.execute(t.db);
      expect(Number(rows[0]!.count)).toBe(2);
      expect((await inlineStore.readStream(id)).version).toBe(3);
    });
  });

  describe('subscriptions and async projections', () => {
    it('delivers every event once in order, checkpoints durably and resumes', async () => {
      const prefix = stream('sub');
      const seen: string[] = [];
      const name = `sub-${t.dialect}-${n}`;
      const sub = store.subscribe(name, {
        streamPrefix: prefix,
        batchSize: 3,
        pollIntervalMs: 50,
        handler: (event) => {
          seen.push(`${event.streamId}#${event.version}`);
        },
      });
      for (let i = 0; i < 4; i++) {
        await store.append(`${prefix}-${i % 2}`, [
          { type: 'A', data: i },
          { type: 'B', data: i },
        ]);
      }
      await sub.caughtUp();
      expect(seen).toHaveLength(8);
      expect(seen.filter((s) => s.startsWith(`${prefix}-0`))).toEqual([
        `${prefix}-0#1`,
        `${prefix}-0#2`,
        `${prefix}-0#3`,
        `${prefix}-0#4`,
      ]);
      await sub.stop();
      await store.append(`${prefix}-0`, [{ type: 'C', data: 'later' }]);
      const resumed: string[] = [];
      const again = store.subscribe(name, {
        streamPrefix: prefix,
        pollIntervalMs: 50,
        handler: (event) => {
          resumed.push(`${event.streamId}#${event.version}`);
        },
      });
      await again.caughtUp();
      expect(resumed).toEqual([`${prefix}-0#5`]);
      await again.stop();
    });

    it('retries a failing handler (at-least-once) and carries causation into appends', async () => {
      const prefix = stream('retry');
      let failures = 0;
      const errors: unknown[] = [];
      const sub = store.subscribe(`retry-${t.dialect}-${n}`, {
        streamPrefix: prefix,
        pollIntervalMs: 20,
        onError: (error) => errors.push(error),
        handler: async (event) => {
          if (event.type === 'Ordered' && failures++ < 2) throw new Error('flaky');
          if (event.type === 'Ordered') await store.append(`${prefix}-mail`, [{ type: 'Mailed', data: {} }]);
        },
      });
      await runWithContext({ requestId: 'order-req' }, () =>
        store.append(`${prefix}-o`, [{ type: 'Ordered', data: {} }]),
      );
      await sub.caughtUp();
      await sub.caughtUp();
      expect(errors).toHaveLength(2);
      const [ordered] = (await store.readStream(`${prefix}-o`)).events;
      const mails = (await store.readStream(`${prefix}-mail`)).events;
      expect(mails).toHaveLength(1);
      expect(mails[0]!.metadata).toMatchObject({ causationId: ordered!.id, correlationId: 'order-req' });
      await sub.stop();
      await expectCode(sub.caughtUp(), 'INVALID_ARGUMENT');
    });

    it("starts at the end with from: 'end'", async () => {
      const prefix = stream('end');
      await store.append(`${prefix}-x`, [{ type: 'Old', data: {} }]);
      const seen: string[] = [];
      const sub = store.subscribe(`end-${t.dialect}-${n}`, {
        from: 'end',
        streamPrefix: prefix,
        pollIntervalMs: 20,
        handler: (e) => {
          seen.push(e.type);
        },
      });
      await sub.caughtUp();
      await store.append(`${prefix}-x`, [{ type: 'New', data: {} }]);
      await sub.caughtUp();
      expect(seen).toEqual(['New']);
      await sub.stop();
    });

    it('runs an async projection transactionally and rebuilds it from zero', async () => {
      const table = `totals_${t.dialect}`;
      await sql`create table ${sql.id(table)} (stream_id text primary key, total integer not null)`.execute(
        t.db,
      );
      const prefix = stream('proj');
      const projection: AsyncProjection<unknown> = {
        name: `totals-${t.dialect}-${n}`,
        streamPrefix: prefix,
        types: ['ItemAdded'],
        batchSize: 4,
        async handle(events, trx) {
          for (const event of events) {
            const price = (event.data as { price: number }).price;
            await sql`insert into ${sql.id(table)} (stream_id, total) values (${event.streamId}, ${price})
              on conflict (stream_id) do update set total = ${sql.id(table)}.total + ${price}`.execute(trx);
          }
        },
        async reset(trx) {
          await sql`delete from ${sql.id(table)}`.execute(trx);
        },
      };
      const totals = async () => {
        const { rows } = await sql<{ stream_id: string; total: number }>`
          select stream_id, total from ${sql.id(table)} order by stream_id`.execute(t.db);
        return rows.map((r) => [r.stream_id, Number(r.total)]);
      };
      for (let i = 0; i < 10; i++) {
        await store.append(`${prefix}-${i % 3}`, [{ type: 'ItemAdded', data: { sku: `k${i}`, price: i } }]);
      }
      const running = store.startProjection(projection, { pollIntervalMs: 20 });
      await running.caughtUp();
      const expected = [
        [`${prefix}-0`, 0 + 3 + 6 + 9],
        [`${prefix}-1`, 1 + 4 + 7],
        [`${prefix}-2`, 2 + 5 + 8],
      ];
      expect(await totals()).toEqual(expected);
      // Corrupt the read model, then rebuild while the projection is running.
      await sql`update ${sql.id(table)} set total = -1`.execute(t.db);
      await store.rebuildProjection(projection);
      await store.append(`${prefix}-0`, [{ type: 'ItemAdded', data: { sku: 'late', price: 100 } }]);
      await running.caughtUp();
      expect(await totals()).toEqual([[`${prefix}-0`, 118], expected[1], expected[2]]);
      await running.stop();
    });
  });
});

describe('createEventStore options', () => {
  it('rejects unsafe table prefixes and a missing db', () => {
    expect(() => createEventStore({ db: undefined as unknown as Kysely<unknown> })).toThrow(EventStoreError);
    expect(() =>
      createEventStore({ db: {} as Kysely<unknown>, dialect: 'sqlite', tablePrefix: 'x"; drop table y; --' }),
    ).toThrow(/tablePrefix/);
  });
});
