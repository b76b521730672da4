import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { worst } from '../check-runner';
import type { CheckMeasurement, CheckOptions, HealthCheck, Threshold } from '../types';
import { formatBytes } from './disk';
import { checkOptions, statusAbove, validateThreshold } from './thresholds';

export interface MemoryCheckOptions extends CheckOptions {
  /** @default 'memory' */
  name?: string;
  /** Thresholds on V8 heap used, in percent of the heap size limit (above is worse). @default { warn: 85, fail: 95 } */
  heapUsedPercent?: Threshold;
  /** Thresholds on resident set size in bytes (above is worse). @default none */
  rssBytes?: Threshold;
  /**
   * Thresholds on resident set size in percent of the container's memory limit (cgroup, via
   * `process.constrainedMemory()`), or of the machine's memory when there is none (above is worse).
   * @default none
   */
  rssPercent?: Threshold;
}

/** Above 2^60 bytes, `constrainedMemory()` means "no limit". */
const NO_LIMIT = 2 ** 60;

/** The memory limit the process runs under: the cgroup limit when set, else undefined. */
export function containerMemoryLimit(): number | undefined {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained !== undefined && constrained > 0 && constrained < NO_LIMIT ? constrained : undefined;
}

/**
 * Checks the process's memory: `memory:heapUsed` against the V8 heap limit and `memory:rss` against
 * byte and container-limit thresholds (observed values in bytes). A resource check: non-critical
 * unless you say so; with `critical: true, probes: ['liveness']` a leak makes Kubernetes restart the
 * pod before the kernel's OOM killer does.
 *
 * @example
 * ```ts
 * health.addCheck(memoryCheck({ rssPercent: { warn: 80, fail: 95 } }));
 * ```
 */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheck {
  validateThreshold('heapUsedPercent', options.heapUsedPercent);
  validateThreshold('rssBytes', options.rssBytes);
  validateThreshold('rssPercent', options.rssPercent);
  const heapThreshold = options.heapUsedPercent ?? { warn: 85, fail: 95 };
  return {
    ...checkOptions(options),
    name: options.name ?? 'memory',
    kind: 'resource',
    measurement: 'heapUsed',
    run(): CheckMeasurement[] {
      const { heapUsed, rss } = process.memoryUsage();
      const heapLimit = getHeapStatistics().heap_size_limit;
      const heapPercent = (heapUsed / heapLimit) * 100;
      const heapStatus = statusAbove(heapPercent, heapThreshold);
      const limit = containerMemoryLimit() ?? (options.rssPercent ? totalmem() : undefined);
      const rssStatus =
        limit === undefined
          ? statusAbove(rss, options.rssBytes)
          : worst(statusAbove(rss, options.rssBytes), statusAbove((rss / limit) * 100, options.rssPercent));
      return [
        {
          measurement: 'heapUsed',
          status: heapStatus,
          observedValue: heapUsed,
          observedUnit: 'bytes',
          ...(heapStatus === 'pass'
            ? {}
            : { output: `heap used ${heapPercent.toFixed(1)}% of ${formatBytes(heapLimit)}` }),
        },
        {
          measurement: 'rss',
          status: rssStatus,
          observedValue: rss,
          observedUnit: 'bytes',
          ...(rssStatus === 'pass'
            ? {}
            : {
                output: `rss ${formatBytes(rss)}${limit === undefined ? '' : ` of ${formatBytes(limit)} limit`}`,
              }),
        },
      ];
    },
  };
}
