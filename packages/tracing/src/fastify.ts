/** Fastify adapter for @plat/tracing. */
import { fastifyErrorHandler, fastifyPlugin } from '@plat/core/fastify';
import type { FastifyPluginCallback } from 'fastify';
import { tracingErrorStatus } from './http-status';
import { createRequestTracing, recordRequestError } from './request-tracing';
import type { RequestTracingOptions } from './types';

/**
 * A Fastify plugin tracing every request as one server span named by its route template, recording
 * thrown errors on it. Register it before your routes. It also opens the @plat request context.
 *
 * @example
 * ```ts
 * await app.register(traceRequests({ responseHeader: 'x-trace-id' }));
 * ```
 */
export function traceRequests(options: RequestTracingOptions = {}): FastifyPluginCallback {
  const bridge = fastifyPlugin(createRequestTracing(options), {
    statusOf: tracingErrorStatus,
    name: '@plat/tracing',
  });
  const plugin: FastifyPluginCallback = (instance, opts, done) => {
    instance.addHook('onError', (request, _reply, error, hookDone) => {
      recordRequestError(request.raw, error);
      hookDone();
    });
    bridge(instance, opts, done);
  };
  // Like the bridge's own plugin: hooks apply to the whole app, not an encapsulated child context.
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@plat/tracing',
  });
}

/** Answers @plat/tracing errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(tracingErrorStatus);
