/** Key sources built from popularity: the top keys of a window, and those of the coming hour of day. */
import { describe, toMs } from './duration';
import { CacheWarmError } from './errors';
import type { Duration, PopularKeys, TimeOfDayKeys } from './types';

function checkTop(top: unknown, factory: string): number {
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 1 || top > 100_000) {
    throw new CacheWarmError(
      'INVALID_OPTIONS',
      `${factory}: top must be an integer from 1 to 100000; got ${describe(top)}`,
      {
        details: { option: 'top' },
      },
    );
  }
  return top;
}

function checkFilter(filter: unknown, factory: string): ((key: string) => boolean) | undefined {
  if (filter === undefined || typeof filter === 'function')
    return filter as ((key: string) => boolean) | undefined;
  throw new CacheWarmError('INVALID_OPTIONS', `${factory}: filter must be a function of the key`, {
    details: { option: 'filter' },
  });
}

/**
 * The `top` most read keys, counting reads with a half-life of `window`: a read one window ago
 * counts half, two windows ago a quarter. Counted from the warmer's cache reads (and, with `redis`,
 * across the fleet). `minCount` leaves out keys read less than that (decayed), so a quiet night
 * does not warm keys nobody will read.
 *
 * @example
 * ```ts
 * warmer.register('popular-workflows', {
 *   keys: popular({ top: 100, window: '1h', filter: (key) => key.startsWith('workflow:') }),
 *   load: (key) => db.workflow(key.slice('workflow:'.length)),
 *   ttl: '10m',
 *   schedule: '*\/5 * * * *',
 * });
 * ```
 */
export function popular(options: {
  top: number;
  window?: Duration;
  filter?: (key: string) => boolean;
  /** Leave out keys whose decayed count is below this, so quiet hours warm fewer keys. @default 0 */
  minCount?: number;
}): PopularKeys {
  const minCount = options?.minCount ?? 0;
  if (typeof minCount !== 'number' || !(minCount >= 0)) {
    throw new CacheWarmError(
      'INVALID_OPTIONS',
      `popular(): minCount must be 0 or more; got ${describe(minCount)}`,
      {
        details: { option: 'minCount' },
      },
    );
  }
  return {
    kind: 'popular',
    top: checkTop(options?.top, 'popular()'),
    windowMs: Math.max(1000, toMs(options.window ?? '1h', 'popular(): window')),
    filter: checkFilter(options.filter, 'popular()'),
    minCount,
  };
}

/**
 * The `top` keys most read in the hour of the day that starts `lead` from now, on previous days
 * (each day counting half as much as the next). Pair it with a schedule a little before each hour.
 *
 * @example
 * ```ts
 * warmer.register('morning', {
 *   keys: timeOfDay({ top: 200, lead: '10m' }),
 *   load: loadWorkflow,
 *   ttl: '30m',
 *   schedule: '50 * * * *', // 10 minutes before every hour
 * });
 * ```
 */
export function timeOfDay(options: {
  top: number;
  lead?: Duration;
  filter?: (key: string) => boolean;
}): TimeOfDayKeys {
  return {
    kind: 'time-of-day',
    top: checkTop(options?.top, 'timeOfDay()'),
    leadMs: toMs(options.lead ?? '10m', 'timeOfDay(): lead'),
    filter: checkFilter(options.filter, 'timeOfDay()'),
  };
}
