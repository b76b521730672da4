/**
 * Turning check runs into health+json reports, and reports into answers at a detail level.
 */
import { type CheckRun, worst } from './check-runner';
import type { CheckResult, DetailLevel, HealthReport, HealthStatus } from './types';

export const HEALTH_CONTENT_TYPE = 'application/health+json';

/** Service fields copied into every report. */
export interface ServiceFields {
  serviceId?: string;
  description?: string;
  version?: string;
  releaseId?: string;
}

/**
 * The probe status from its runs: a failing critical check fails it, a failing non-critical check
 * or any warning turns it to `warn`.
 */
export function aggregate(runs: readonly CheckRun[]): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const run of runs) {
    if (run.status === 'fail') status = worst(status, run.critical ? 'fail' : 'warn');
    else status = worst(status, run.status);
  }
  return status;
}

export function buildReport(
  service: ServiceFields,
  status: HealthStatus,
  runs: readonly CheckRun[],
  output?: string,
): HealthReport {
  const checks: Record<string, CheckResult[]> = {};
  for (const run of runs) {
    for (const [key, result] of run.entries) {
      const list = checks[key];
      if (list === undefined) checks[key] = [result];
      else list.push(result);
    }
  }
  return output === undefined ? { status, ...service, checks } : { status, ...service, output, checks };
}

/** The JSON body of a report at a detail level. */
export function renderReport(report: HealthReport, level: DetailLevel): string {
  if (level === 'none') return JSON.stringify({ status: report.status });
  if (level === 'full') {
    const { status, output, checks, ...service } = report;
    return JSON.stringify({ status, ...service, ...(output === undefined ? {} : { output }), checks });
  }
  const checks: Record<string, Array<Omit<CheckResult, 'output' | 'componentId' | 'affectedEndpoints'>>> = {};
  for (const [key, results] of Object.entries(report.checks)) {
    checks[key] = results.map(({ output: _o, componentId: _c, affectedEndpoints: _a, ...rest }) => rest);
  }
  return JSON.stringify({
    status: report.status,
    ...(report.output === undefined ? {} : { output: report.output }),
    checks,
  });
}

/** 200 for pass and warn, 503 for fail. */
export function httpStatusOf(status: HealthStatus): number {
  return status === 'fail' ? 503 : 200;
}
