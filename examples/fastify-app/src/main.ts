/**
 * Runs the Fastify example: `pnpm --filter @plat-example/fastify-app start` (PORT, PLAT_PG_URL,
 * PLAT_REDIS_URL, OTEL_EXPORTER_OTLP_ENDPOINT... see the workflow-service README).
 */
// First, and on its own: tracing starts before the modules it instruments are loaded.
import '@plat-example/workflow-service/tracing';
import { gracefulShutdown } from '@plat/health/fastify';
import { createWorkflowService, ensureAdminKey, readConfig } from '@plat-example/workflow-service';
import { tracing } from '@plat-example/workflow-service/tracing';
import { buildFastifyApp } from './app';

const config = readConfig();
const service = await createWorkflowService(config);
service.health.onShutdown('tracing', () => tracing.shutdown());
const app = await buildFastifyApp(service);
gracefulShutdown(service.health, app);
await service.started();
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' });
await ensureAdminKey(service);
