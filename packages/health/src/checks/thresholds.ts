import { HealthError } from '../errors';
import type { CheckOptions, HealthStatus, Threshold } from '../types';

/** The status of a value where higher is worse (latency, memory in use). */
export function statusAbove(value: number, threshold: Threshold | undefined): HealthStatus {
  if (threshold === undefined) return 'pass';
  if (threshold.fail !== undefined && value > threshold.fail) return 'fail';
  if (threshold.warn !== undefined && value > threshold.warn) return 'warn';
  return 'pass';
}

/** The status of a value where lower is worse (free disk space). */
export function statusBelow(value: number, threshold: Threshold | undefined): HealthStatus {
  if (threshold === undefined) return 'pass';
  if (threshold.fail !== undefined && value < threshold.fail) return 'fail';
  if (threshold.warn !== undefined && value < threshold.warn) return 'warn';
  return 'pass';
}

/** Rejects thresholds that are not finite numbers, naming the option. */
export function validateThreshold(option: string, threshold: Threshold | undefined): void {
  if (threshold === undefined) return;
  for (const level of ['warn', 'fail'] as const) {
    const value = threshold[level];
    if (value !== undefined && !Number.isFinite(value)) {
      throw new HealthError('INVALID_OPTIONS', `${option}.${level} must be a finite number`, {
        details: { option: `${option}.${level}` },
      });
    }
  }
}

/** The generic check options out of a factory's options (so factory-only fields are not passed on). */
export function checkOptions(options: CheckOptions): CheckOptions {
  const picked: CheckOptions = {};
  if (options.critical !== undefined) picked.critical = options.critical;
  if (options.timeoutMs !== undefined) picked.timeoutMs = options.timeoutMs;
  if (options.cache !== undefined) picked.cache = options.cache;
  if (options.probes !== undefined) picked.probes = options.probes;
  if (options.componentType !== undefined) picked.componentType = options.componentType;
  return picked;
}

/** Milliseconds rounded to 0.01 for answers. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}
