/**
 * The admin endpoint, written once for the three adapters: `GET <path>` lists the warmers with
 * their last runs, `POST <path>/:name/run` runs one and answers its result.
 */
import type { PlatMiddleware, PlatRoute } from '@plat/core';
import { CacheWarmError } from './errors';
import type { Warmer } from './types';

/** Options of the admin routes (`warmAdminRoutes` in each adapter). */
export interface WarmAdminOptions {
  warmer: Warmer;
  /**
   * Runs before every admin route; answer a reply (401/403) to refuse. Required: running a warmer
   * costs database load, so the endpoint is never public by accident.
   */
  guard: PlatMiddleware;
  /**
   * Path of the listing; runs are under `<path>/:name/run`.
   * @default '/_warm'
   */
  path?: string;
  /** Mount prefix (`/admin`). @default '' */
  prefix?: string;
}

/**
 * The framework-neutral admin routes (the adapters' `warmAdminRoutes` mount them).
 *
 * @example
 * ```ts
 * app.use(expressRoutes(warmAdminRoutes({ warmer, guard }), { guard }));
 * ```
 */
export function warmAdminRoutes(options: WarmAdminOptions): PlatRoute[] {
  if (typeof options !== 'object' || options === null || typeof options.warmer?.status !== 'function') {
    throw new CacheWarmError('INVALID_OPTIONS', 'warmAdminRoutes needs { warmer, guard }', {
      details: { option: 'warmer' },
    });
  }
  if (typeof options.guard !== 'function') {
    throw new CacheWarmError(
      'INVALID_OPTIONS',
      'warmAdminRoutes needs a guard (exchange) => reply | undefined: the endpoint triggers database loads',
      { details: { option: 'guard' } },
    );
  }
  const { warmer } = options;
  const path = options.path ?? '/_warm';
  const noStore = { 'cache-control': 'no-store' };
  return [
    {
      method: 'GET',
      path,
      handler: () => ({ status: 200, headers: noStore, body: warmer.status() }),
    },
    {
      method: 'POST',
      path: `${path}/:name/run`,
      handler: async (exchange) => {
        const name = exchange.params.name ?? '';
        if (warmer.statusOf(name) === undefined) {
          throw new CacheWarmError(
            'UNKNOWN_WARMER',
            `No warmer named "${name.slice(0, 100)}" is registered`,
            {
              details: { warmer: name.slice(0, 100) },
            },
          );
        }
        return { status: 200, headers: noStore, body: await warmer.run(name) };
      },
    },
  ];
}
