/**
 * The workflow service on Fastify. Everything the service does lives in
 * @plat-example/workflow-service; this file is only the Fastify wiring of each @plat package.
 */
import { apiKeyRouter, requireApiKey } from '@plat/apikeys/fastify';
import { warmAdminRoutes } from '@plat/cache-warm/fastify';
import type { HttpReply } from '@plat/core';
import { fastifyErrorHandler } from '@plat/core/fastify';
import { dbBulkhead, dbStatsRoutes, dbUnitOfWork } from '@plat/db-perf/fastify';
import { eventStoreRouter } from '@plat/event-store/fastify';
import { healthProbes } from '@plat/health/fastify';
import { getValidated, validate } from '@plat/input-guard/fastify';
import { requestLogging } from '@plat/logging/fastify';
import { traceRequests } from '@plat/tracing/fastify';
import { problemStatus, type WorkflowService } from '@plat-example/workflow-service';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

function send(reply: FastifyReply, answer: HttpReply) {
  return reply
    .code(answer.status)
    .headers(answer.headers ?? {})
    .send(answer.body);
}

/**
 * Builds the Fastify app for a service; listening and signals are left to the caller.
 *
 * @example
 * ```ts
 * const app = await buildFastifyApp(service);
 * await app.listen({ port: 3000 });
 * ```
 */
export async function buildFastifyApp(service: WorkflowService): Promise<FastifyInstance> {
  const { keys, health, isProbe } = service;
  const app = Fastify({ logger: false });

  // Tracing first (it opens the request context), then one log line per request with its trace id.
  await app.register(traceRequests({ skip: isProbe, responseHeader: 'x-trace-id' }));
  await app.register(requestLogging({ logger: service.logger, skip: isProbe }));
  await app.register(healthProbes(health));
  // db-perf: a unit of work per request (N+1 detection, loaders), the bulkhead on writes.
  await app.register(dbUnitOfWork({ serverTiming: true, skip: isProbe }));
  await app.register(dbBulkhead(service.bulkhead, { skip: (ex) => service.isRead(ex) || isProbe(ex) }));

  // Admin: key management (admin scope), database statistics, the raw event log, cache warming.
  await app.register(apiKeyRouter(keys));
  await app.register(
    dbStatsRoutes({ perf: service.perf, bulkheads: [service.bulkhead], guard: service.adminGuard }),
  );
  await app.register(eventStoreRouter(service.events, service.eventLog));
  await app.register(warmAdminRoutes({ warmer: service.warmer, guard: service.adminGuard }));

  // The workflow routes: an API key with the route's scope, validated input, then the handler.
  for (const route of service.routes) {
    app.route({
      method: route.method,
      url: route.path,
      onRequest: requireApiKey(keys, { scopes: [route.scope] }),
      preHandler: validate(route.schemas),
      handler: async (_request, reply) => send(reply, await route.handle(getValidated())),
    });
  }

  app.setErrorHandler(fastifyErrorHandler(problemStatus));
  return app;
}
