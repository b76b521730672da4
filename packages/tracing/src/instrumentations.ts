import type { TracerProvider } from '@opentelemetry/api';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { TracingError } from './errors';
import type { ClientInstrumentationOptions, InstrumentationOptions } from './types';

function clientOptions(
  name: string,
  option: boolean | ClientInstrumentationOptions | undefined,
): ClientInstrumentationOptions | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return {};
  if (typeof option !== 'object' || option === null) {
    throw new TracingError(
      'INVALID_OPTIONS',
      `instrumentations.${name} must be a boolean or an options object`,
    );
  }
  return option.requireParentSpan === undefined ? {} : { requireParentSpan: option.requireParentSpan };
}

/** The instrumentations the options ask for, not yet enabled. */
export function createInstrumentations(
  options: InstrumentationOptions | false | undefined,
): Instrumentation[] {
  if (options === false) return [];
  const settings = options ?? {};
  const list: Instrumentation[] = [];

  const http = settings.http ?? true;
  const outgoing = http === true || (typeof http === 'object' && http.outgoing !== false);
  const incoming = typeof http === 'object' && http.incoming === true;
  if (outgoing || incoming) {
    list.push(
      new HttpInstrumentation({
        // Inbound spans come from the framework adapters; patching the server costs every request.
        disableIncomingRequestInstrumentation: !incoming,
        disableOutgoingRequestInstrumentation: !outgoing,
      }),
    );
  }
  if (settings.fetch !== false) list.push(new UndiciInstrumentation());
  const pg = clientOptions('pg', settings.pg);
  // Connection spans are noise next to the query spans that matter; the stable conventions drop them too.
  if (pg !== undefined) list.push(new PgInstrumentation({ ...pg, ignoreConnectSpans: true }));
  const redis = clientOptions('redis', settings.redis);
  if (redis !== undefined) list.push(new RedisInstrumentation(redis));
  list.push(...(settings.extra ?? []));
  return list;
}

/** Enables the instrumentations against `provider`; returns the function that disables them again. */
export function enableInstrumentations(
  instrumentations: Instrumentation[],
  provider: TracerProvider,
): () => void {
  if (instrumentations.length === 0) return () => {};
  return registerInstrumentations({ instrumentations, tracerProvider: provider });
}
