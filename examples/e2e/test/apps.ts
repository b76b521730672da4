/** Starts each example app on an ephemeral loopback port, with graceful shutdown attached as in main.ts. */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gracefulShutdown as expressShutdown } from '@plat/health/express';
import { gracefulShutdown as fastifyShutdown } from '@plat/health/fastify';
import { gracefulShutdown as koaShutdown } from '@plat/health/koa';
import { buildExpressApp } from '@plat-example/express-app';
import { buildFastifyApp } from '@plat-example/fastify-app';
import { buildKoaApp } from '@plat-example/koa-app';
import type { WorkflowService } from '@plat-example/workflow-service';

export type ExampleName = 'express' | 'fastify' | 'koa';

export interface StartedApp {
  readonly url: string;
  /** Stops listening without running the shutdown sequence (for a test that failed early). */
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return async () => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

export const startExample: Record<ExampleName, (service: WorkflowService) => Promise<StartedApp>> = {
  async express(service) {
    const server = createServer(buildExpressApp(service));
    expressShutdown(service.health, server);
    return { url: await listen(server), close: closer(server) };
  },
  async fastify(service) {
    const app = await buildFastifyApp(service);
    fastifyShutdown(service.health, app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
  async koa(service) {
    const server = createServer(buildKoaApp(service).callback());
    koaShutdown(service.health, server);
    return { url: await listen(server), close: closer(server) };
  },
};
