import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { HealthError } from '../errors';
import type { CheckMeasurement, EventLoopCheckOptions, HealthCheck } from '../types';
import { checkOptions, roundMs, statusAbove, validateThreshold } from './thresholds';

/** A check that holds a monitor and a timer, released by `close()`. */
export interface ClosableCheck extends HealthCheck {
  close(): void;
}

/**
 * Watches the event loop with `perf_hooks.monitorEventLoopDelay` and event-loop utilisation:
 * `eventLoop:delay` (p99 delay in ms beyond the sampling interval) and `eventLoop:utilization`
 * (0 to 1), over the last one to two windows, so a stall shows at once and fades after a window.
 * A resource check in liveness and readiness, non-critical by default: it warns, and fails a probe
 * only with a `fail` threshold and `critical: true`. `createHealth` registers one unless
 * `eventLoop: false`; call `close()` on one you made yourself when done.
 *
 * @example
 * ```ts
 * const health = createHealth({ eventLoop: { delayMs: { warn: 100, fail: 2000 }, critical: true } });
 * ```
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): ClosableCheck {
  validateThreshold('delayMs', options.delayMs);
  validateThreshold('utilization', options.utilization);
  const resolutionMs = options.resolutionMs ?? 20;
  const windowMs = options.windowMs ?? 10_000;
  if (!Number.isInteger(resolutionMs) || resolutionMs < 1) {
    throw new HealthError('INVALID_OPTIONS', 'eventLoop.resolutionMs must be a positive integer');
  }
  if (!Number.isFinite(windowMs) || windowMs < resolutionMs) {
    throw new HealthError('INVALID_OPTIONS', 'eventLoop.windowMs must be a number of at least resolutionMs');
  }
  const delayThreshold = options.delayMs ?? { warn: 100 };
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  // The histogram records the whole timer interval; what matters is the lateness beyond it.
  const p99 = () => (histogram.count > 0 ? Math.max(0, histogram.percentile(99) / 1e6 - resolutionMs) : 0);
  let previousDelay = 0;
  let previousWindowStart: EventLoopUtilization = performance.eventLoopUtilization();
  let windowStart = previousWindowStart;
  const rotate = setInterval(() => {
    previousDelay = p99();
    histogram.reset();
    previousWindowStart = windowStart;
    windowStart = performance.eventLoopUtilization();
  }, windowMs);
  rotate.unref();

  return {
    ...checkOptions(options),
    critical: options.critical ?? false,
    probes: options.probes ?? ['liveness', 'readiness'],
    name: options.name ?? 'eventLoop',
    kind: 'resource',
    measurement: 'delay',
    run(): CheckMeasurement[] {
      const delay = Math.max(previousDelay, p99());
      const utilization =
        Math.round(performance.eventLoopUtilization(previousWindowStart).utilization * 1000) / 1000;
      const delayStatus = statusAbove(delay, delayThreshold);
      const utilizationStatus = statusAbove(utilization, options.utilization);
      return [
        {
          measurement: 'delay',
          status: delayStatus,
          observedValue: roundMs(delay),
          observedUnit: 'ms',
          ...(delayStatus === 'pass' ? {} : { output: `event loop p99 delay ${Math.round(delay)} ms` }),
        },
        {
          measurement: 'utilization',
          status: utilizationStatus,
          observedValue: utilization,
          observedUnit: 'ratio',
          ...(utilizationStatus === 'pass' ? {} : { output: `event loop utilization ${utilization}` }),
        },
      ];
    },
    close() {
      clearInterval(rotate);
      histogram.disable();
    },
  };
}
