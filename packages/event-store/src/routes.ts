/**
 * The read-only HTTP surface for history and debugging, written once as PlatRoutes and mounted
 * through the @plat/core bridges by the three adapters.
 */
import type { HttpExchange, PlatRoute } from '@plat/core';
import { EventStoreError } from './errors';
import type { EventStore } from './store';
import type { AggregateDefinition, EventStoreRoutesOptions, ReplayTarget } from './types';

function single(ex: HttpExchange, name: string): string | undefined {
  const value = ex.query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

function integer(ex: HttpExchange, name: string, min = 0): number | undefined {
  const raw = single(ex, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min) {
    throw new EventStoreError('INVALID_ARGUMENT', `Query parameter ${name} must be an integer ≥ ${min}`, {
      details: { argument: name },
    });
  }
  return Number(raw);
}

function list(ex: HttpExchange, name: string): string[] | undefined {
  const value = ex.query[name];
  const parts = (Array.isArray(value) ? value : [value])
    .filter((v): v is string => typeof v === 'string')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return parts.length === 0 ? undefined : parts.slice(0, 100);
}

function defaultAggregate(streamId: string): string | undefined {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : undefined;
}

const noStore = { 'cache-control': 'no-store' };

/**
 * The routes `GET /streams/:id`, `GET /streams/:id/state` and `GET /audit` (plus `GET /log`, the
 * global log) over a store, for mounting with a guard through the adapters.
 *
 * @example
 * ```ts
 * const routes = eventStoreRoutes(store, { aggregates: { cart: { evolve, initialState } } });
 * app.use(expressRoutes(routes, { prefix: '/debug/events', guard: adminOnly, statusOf: eventStoreErrorStatus }));
 * ```
 */
export function eventStoreRoutes<DB>(
  store: EventStore<DB>,
  options: EventStoreRoutesOptions = {},
): PlatRoute[] {
  const aggregates: Readonly<Record<string, AggregateDefinition>> = options.aggregates ?? {};
  const resolve = options.resolveAggregate ?? defaultAggregate;
  const maxLimit = options.maxLimit ?? 1000;
  const limitOf = (ex: HttpExchange, fallback: number) =>
    Math.min(integer(ex, 'limit', 1) ?? fallback, maxLimit);

  return [
    {
      method: 'GET',
      path: '/streams/:id',
      async handler(ex) {
        const streamId = ex.params.id ?? '';
        const backwards = single(ex, 'backwards') === 'true';
        const from = integer(ex, 'from');
        const to = integer(ex, 'to');
        const slice = await store.readStream(streamId, {
          ...(from === undefined ? {} : { fromVersion: from }),
          ...(to === undefined ? {} : { toVersion: to }),
          maxCount: limitOf(ex, 100),
          backwards,
          includeDeleted: single(ex, 'includeDeleted') === 'true',
        });
        if (!slice.exists) {
          throw new EventStoreError('STREAM_NOT_FOUND', `Stream ${streamId} does not exist`, {
            details: { streamId },
          });
        }
        return { status: 200, headers: noStore, body: slice };
      },
    },
    {
      method: 'GET',
      path: '/streams/:id/state',
      async handler(ex) {
        const streamId = ex.params.id ?? '';
        const name = single(ex, 'aggregate') ?? resolve(streamId);
        const definition = name === undefined ? undefined : aggregates[name];
        if (name === undefined || definition === undefined || !Object.hasOwn(aggregates, name)) {
          throw new EventStoreError(
            'UNKNOWN_AGGREGATE',
            `No aggregate is registered for stream ${streamId}`,
            {
              details: { streamId, aggregate: name ?? null },
            },
          );
        }
        const version = integer(ex, 'version');
        const asOf = single(ex, 'asOf');
        if (version !== undefined && asOf !== undefined) {
          throw new EventStoreError('INVALID_ARGUMENT', 'Give either version or asOf, not both', {
            details: { argument: 'asOf' },
          });
        }
        let upTo: ReplayTarget | undefined;
        if (version !== undefined) upTo = { version };
        if (asOf !== undefined) upTo = { time: /^\d{1,15}$/.test(asOf) ? Number(asOf) : asOf };
        const result = await store.aggregateStream(streamId, {
          evolve: (state, event) => definition.evolve(state, event),
          initialState: () => definition.initialState(),
          ...(upTo === undefined ? {} : { upTo }),
          ...(definition.snapshot === undefined ? {} : { snapshot: definition.snapshot }),
          includeDeleted: single(ex, 'includeDeleted') === 'true',
        });
        if (!result.exists) {
          throw new EventStoreError('STREAM_NOT_FOUND', `Stream ${streamId} does not exist`, {
            details: { streamId },
          });
        }
        return {
          status: 200,
          headers: noStore,
          body: {
            streamId,
            aggregate: name,
            version: result.version,
            state: result.state,
            recordedAt: result.recordedAt ?? null,
            snapshotVersion: result.snapshotVersion ?? null,
            eventsApplied: result.eventsApplied,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/audit',
      async handler(ex) {
        const actor = single(ex, 'actor');
        const streamPrefix = single(ex, 'streamPrefix');
        const types = list(ex, 'type');
        const from = single(ex, 'from');
        const to = single(ex, 'to');
        const cursor = single(ex, 'cursor');
        const page = await store.auditLog({
          limit: limitOf(ex, 100),
          ascending: single(ex, 'order') === 'asc',
          ...(actor === undefined ? {} : { actor }),
          ...(streamPrefix === undefined ? {} : { streamPrefix }),
          ...(types === undefined ? {} : { types }),
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(cursor === undefined ? {} : { cursor }),
        });
        return { status: 200, headers: noStore, body: page };
      },
    },
    {
      method: 'GET',
      path: '/log',
      async handler(ex) {
        const after = single(ex, 'after');
        const types = list(ex, 'type');
        const streamPrefix = single(ex, 'streamPrefix');
        const page = await store.readAll({
          limit: limitOf(ex, 100),
          ...(after === undefined ? {} : { after }),
          ...(types === undefined ? {} : { types }),
          ...(streamPrefix === undefined ? {} : { streamPrefix }),
        });
        return { status: 200, headers: noStore, body: page };
      },
    },
  ];
}
