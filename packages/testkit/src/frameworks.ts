import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import express, { type Express } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';

/** Same names as @plat/core's FrameworkName (testkit stays free of workspace dependencies). */
export type FrameworkName = 'express' | 'fastify' | 'koa';

/** How a test wires the same behaviour into each framework. Omit one to skip that framework. */
export interface AppMounts {
  express?(app: Express): void | Promise<void>;
  fastify?(app: FastifyInstance): void | Promise<void>;
  /** Routes added to `router` are mounted after this returns. */
  koa?(app: Koa, router: Router): void | Promise<void>;
}

/** An app listening on an ephemeral loopback port. */
export interface RunningApp {
  readonly framework: FrameworkName;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

export interface FrameworkHarness {
  readonly name: FrameworkName;
  start(mounts: AppMounts): Promise<RunningApp>;
}

async function listen(server: Server, framework: FrameworkName): Promise<RunningApp> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    framework,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const expressHarness: FrameworkHarness = {
  name: 'express',
  async start(mounts) {
    const app = express();
    app.use(express.json());
    await mounts.express?.(app);
    return listen(createServer(app), 'express');
  },
};

const fastifyHarness: FrameworkHarness = {
  name: 'fastify',
  async start(mounts) {
    const app = Fastify({ logger: false });
    await mounts.fastify?.(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { framework: 'fastify', url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

const koaHarness: FrameworkHarness = {
  name: 'koa',
  async start(mounts) {
    const app = new Koa();
    // Koa prints every unhandled error to stderr; tests assert on responses instead.
    app.silent = true;
    const router = new Router();
    await mounts.koa?.(app, router);
    app.use(router.routes());
    app.use(router.allowedMethods());
    return listen(createServer(app.callback()), 'koa');
  },
};

/**
 * The three supported frameworks, for one behaviour suite run against each on port 0.
 *
 * @example
 * ```ts
 * describe.each(frameworks)('$name', (fw) => {
 *   let app: RunningApp;
 *   beforeAll(async () => { app = await fw.start(mounts); });
 *   afterAll(() => app.close());
 *   it('answers', async () => expect((await fetch(`${app.url}/ping`)).status).toBe(200));
 * });
 * ```
 */
export const frameworks: readonly FrameworkHarness[] = [expressHarness, fastifyHarness, koaHarness];
