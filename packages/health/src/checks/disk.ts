import { statfs } from 'node:fs/promises';
import type { CheckMeasurement, CheckOptions, HealthCheck, Threshold } from '../types';
import { checkOptions, statusBelow, validateThreshold } from './thresholds';

export interface DiskSpaceCheckOptions extends CheckOptions {
  /** @default 'disk' */
  name?: string;
  /** A path on the file system to watch (a data or upload directory). @default process.cwd() */
  path?: string;
  /** Thresholds on free bytes available to the process (below is worse). @default none */
  freeBytes?: Threshold;
  /** Thresholds on free space in percent of the file system (below is worse). @default { warn: 10, fail: 5 } */
  freePercent?: Threshold;
}

/**
 * Checks free disk space with `fs.statfs`: `disk:free` (bytes available to unprivileged users) and
 * `disk:freePercent`. A resource check: non-critical unless you say so.
 *
 * @example
 * ```ts
 * health.addCheck(diskSpaceCheck({ path: '/var/lib/uploads', freeBytes: { fail: 1024 ** 3 } }));
 * ```
 */
export function diskSpaceCheck(options: DiskSpaceCheckOptions = {}): HealthCheck {
  validateThreshold('freeBytes', options.freeBytes);
  validateThreshold('freePercent', options.freePercent);
  const path = options.path ?? process.cwd();
  const freePercent = options.freePercent ?? { warn: 10, fail: 5 };
  return {
    ...checkOptions(options),
    name: options.name ?? 'disk',
    kind: 'resource',
    measurement: 'free',
    async run(): Promise<CheckMeasurement[]> {
      const stats = await statfs(path);
      const free = stats.bavail * stats.bsize;
      const total = stats.blocks * stats.bsize;
      const percent = total > 0 ? Math.round((stats.bavail / stats.blocks) * 10_000) / 100 : 0;
      const bytesStatus = statusBelow(free, options.freeBytes);
      const percentStatus = statusBelow(percent, freePercent);
      return [
        {
          measurement: 'free',
          status: bytesStatus,
          observedValue: free,
          observedUnit: 'bytes',
          componentId: path,
          ...(bytesStatus === 'pass' ? {} : { output: `${formatBytes(free)} free on ${path}` }),
        },
        {
          measurement: 'freePercent',
          status: percentStatus,
          observedValue: percent,
          observedUnit: 'percent',
          componentId: path,
          ...(percentStatus === 'pass' ? {} : { output: `${percent}% free on ${path}` }),
        },
      ];
    },
  };
}

export function formatBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`;
}
