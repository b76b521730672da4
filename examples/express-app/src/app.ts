/**
 * The workflow service on Express. Everything the service does lives in
 * @plat-example/workflow-service; this file is only the Express wiring of each @plat package.
 */
import { apiKeyRouter, requireApiKey } from '@plat/apikeys/express';
import { warmAdminRoutes } from '@plat/cache-warm/express';
import { expressErrorHandler } from '@plat/core/express';
import { dbBulkhead, dbStatsRoutes, dbUnitOfWork } from '@plat/db-perf/express';
import { eventStoreRouter } from '@plat/event-store/express';
import { healthProbes } from '@plat/health/express';
import { getValidated, validate } from '@plat/input-guard/express';
import { requestLogging } from '@plat/logging/express';
import { traceErrors, traceRequests } from '@plat/tracing/express';
import { problemStatus, type WorkflowService } from '@plat-example/workflow-service';
import express, { type Express } from 'express';

/**
 * Builds the Express app for a service; listening and signals are left to the caller.
 *
 * @example
 * ```ts
 * const server = buildExpressApp(service).listen(3000);
 * ```
 */
export function buildExpressApp(service: WorkflowService): Express {
  const { keys, health, isProbe } = service;
  const app = express();

  // Tracing first (it opens the request context), then one log line per request with its trace id.
  app.use(traceRequests({ skip: isProbe, responseHeader: 'x-trace-id' }));
  app.use(requestLogging({ logger: service.logger, skip: isProbe }));
  app.use(healthProbes(health));
  app.use(express.json({ limit: '1mb' }));
  // db-perf: a unit of work per request (N+1 detection, loaders), the bulkhead on writes.
  app.use(dbUnitOfWork({ serverTiming: true, skip: isProbe }));
  app.use(dbBulkhead(service.bulkhead, { skip: (ex) => service.isRead(ex) || isProbe(ex) }));

  // Admin: key management (admin scope), database statistics, the raw event log, cache warming.
  app.use(apiKeyRouter(keys));
  app.use(dbStatsRoutes({ perf: service.perf, bulkheads: [service.bulkhead], guard: service.adminGuard }));
  app.use(eventStoreRouter(service.events, service.eventLog));
  app.use(warmAdminRoutes({ warmer: service.warmer, guard: service.adminGuard }));

  // The workflow routes: an API key with the route's scope, validated input, then the handler.
  for (const route of service.routes) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'delete';
    app[method](
      route.path,
      requireApiKey(keys, { scopes: [route.scope] }),
      validate(route.schemas),
      async (_req, res) => {
        const answer = await route.handle(getValidated());
        res
          .status(answer.status)
          .set(answer.headers ?? {})
          .json(answer.body);
      },
    );
  }

  app.use(traceErrors());
  app.use(expressErrorHandler(problemStatus));
  return app;
}
