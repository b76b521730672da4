/**
 * Runs the Fastify example: `pnpm --filter @plat-example/fastify-app start` (PORT, PLAT_PG_URL,
 * PLAT_REDIS_URL, OTEL_EXPORTER_OTLP_ENDPOINT... see the workflow-service README).
 */
import { gracefulShutdown } from '@plat/health/fastify';
import {
  createWorkflowService,
  ensureAdminKey,
  readConfig,
  startTracing,
} from '@plat-example/workflow-service';
import { buildFastifyApp } from './app';

const config = readConfig();
const tracing = startTracing(config);
const service = await createWorkflowService(config);
service.health.onShutdown('tracing', () => tracing.shutdown());
const app = await buildFastifyApp(service);
gracefulShutdown(service.health, app);
await service.started();
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' });
await ensureAdminKey(service);
