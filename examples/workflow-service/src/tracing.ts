/**
 * Process-wide tracing for the service. Without `OTEL_EXPORTER_OTLP_ENDPOINT` spans are recorded
 * (trace ids still reach logs and events) but not exported, unless `OTEL_TRACES_EXPORTER` says so.
 */

import type { TracingHandle } from '@plat/tracing';
import { setupTracing } from '@plat/tracing';
import type { ServiceConfig } from './config';

/**
 * Starts OpenTelemetry for the service: OTLP when an endpoint is configured, otherwise the exporter
 * named by `OTEL_TRACES_EXPORTER`, otherwise none.
 *
 * @example
 * ```ts
 * const tracing = startTracing(readConfig());
 * ```
 */
export function startTracing(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): TracingHandle {
  const otlp = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const named = env.OTEL_TRACES_EXPORTER as 'otlp' | 'console' | 'none' | undefined;
  return setupTracing({
    serviceName: config.serviceName,
    environment: config.environment,
    exporter: otlp !== undefined ? 'otlp' : (named ?? 'none'),
  });
}
