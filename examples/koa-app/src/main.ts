/**
 * Runs the Koa example: `pnpm --filter @plat-example/koa-app start` (PORT, PLAT_PG_URL,
 * PLAT_REDIS_URL, OTEL_EXPORTER_OTLP_ENDPOINT... see the workflow-service README).
 */
// First, and on its own: tracing starts before the modules it instruments are loaded.
import '@plat-example/workflow-service/tracing';
import { gracefulShutdown } from '@plat/health/koa';
import { createWorkflowService, ensureAdminKey, readConfig } from '@plat-example/workflow-service';
import { tracing } from '@plat-example/workflow-service/tracing';
import { buildKoaApp } from './app';

const config = readConfig();
const service = await createWorkflowService(config);
service.health.onShutdown('tracing', () => tracing.shutdown());
await service.started();
const server = buildKoaApp(service).listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '0.0.0.0');
gracefulShutdown(service.health, server);
await ensureAdminKey(service);
