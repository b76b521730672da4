/**
 * The workflow service on Koa. Everything the service does lives in
 * @plat-example/workflow-service; this file is only the Koa wiring of each @plat package.
 */
import Router from '@koa/router';
import { apiKeyRouter, requireApiKey } from '@plat/apikeys/koa';
import { warmAdminRoutes } from '@plat/cache-warm/koa';
import { koaErrorHandler } from '@plat/core/koa';
import { dbBulkhead, dbStatsRoutes, dbUnitOfWork } from '@plat/db-perf/koa';
import { eventStoreRouter } from '@plat/event-store/koa';
import { healthProbes } from '@plat/health/koa';
import { getValidated, validate } from '@plat/input-guard/koa';
import { requestLogging } from '@plat/logging/koa';
import { traceRequests } from '@plat/tracing/koa';
import { problemStatus, type WorkflowService } from '@plat-example/workflow-service';
import Koa from 'koa';

/**
 * Builds the Koa app for a service; listening and signals are left to the caller.
 *
 * @example
 * ```ts
 * const server = buildKoaApp(service).listen(3000);
 * ```
 */
export function buildKoaApp(service: WorkflowService): Koa {
  const { keys, health, isProbe } = service;
  const app = new Koa();
  // Failures are answered as problem+json and logged by the request log; Koa's own print would repeat them.
  app.silent = true;

  // Tracing first (it opens the request context), then one log line per request with its trace id.
  app.use(traceRequests({ skip: isProbe, responseHeader: 'x-trace-id' }));
  app.use(requestLogging({ logger: service.logger, skip: isProbe }));
  app.use(koaErrorHandler(problemStatus));
  app.use(healthProbes(health));
  // db-perf: a unit of work per request (N+1 detection, loaders), the bulkhead on writes.
  app.use(dbUnitOfWork({ serverTiming: true, skip: isProbe }));
  app.use(dbBulkhead(service.bulkhead, { skip: (ex) => service.isRead(ex) || isProbe(ex) }));

  // Admin: key management (admin scope), database statistics, the raw event log, cache warming.
  app.use(apiKeyRouter(keys));
  app.use(dbStatsRoutes({ perf: service.perf, bulkheads: [service.bulkhead], guard: service.adminGuard }));
  app.use(eventStoreRouter(service.events, service.eventLog));
  app.use(warmAdminRoutes({ warmer: service.warmer, guard: service.adminGuard }));

  // The workflow routes: an API key with the route's scope, validated input, then the handler.
  // Bodies need no parser: validate() reads JSON itself when none ran.
  const router = new Router();
  for (const route of service.routes) {
    router.register(
      route.path,
      [route.method],
      [
        requireApiKey(keys, { scopes: [route.scope] }),
        validate(route.schemas),
        async (ctx) => {
          const answer = await route.handle(getValidated());
          ctx.status = answer.status;
          ctx.set(answer.headers ?? {});
          ctx.body = answer.body;
        },
      ],
    );
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
