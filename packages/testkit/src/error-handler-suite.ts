import type { ErrorRequestHandler } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Middleware } from 'koa';
import { frameworks, type RunningApp } from './frameworks';

/** The three error handlers a package's adapters export. */
export interface ErrorHandlers {
  express: ErrorRequestHandler;
  fastify: (error: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;
  koa: Middleware;
}

/**
 * One suite, run against Express, Fastify and Koa: a route throws the package's error and the
 * package's error handler answers it as problem+json with the expected status and code.
 */
export function describeErrorHandlers(
  packageName: string,
  handlers: ErrorHandlers,
  makeError: () => Error & { code: string },
  expectedStatus: number,
): void {
  describe.each(frameworks)(`${packageName} error handler on $name`, (fw) => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await fw.start({
        express(server) {
          server.get('/boom', () => {
            throw makeError();
          });
          server.get('/plain', () => {
            throw new Error('internal detail');
          });
          server.use(handlers.express);
        },
        fastify(server) {
          server.setErrorHandler(handlers.fastify);
          server.get('/boom', async () => {
            throw makeError();
          });
          server.get('/plain', async () => {
            throw new Error('internal detail');
          });
        },
        koa(server, router) {
          server.use(handlers.koa);
          router.get('/boom', () => {
            throw makeError();
          });
          router.get('/plain', () => {
            throw new Error('internal detail');
          });
        },
      });
    });
    afterAll(() => app.close());

    it('answers the package error as problem+json', async () => {
      const res = await fetch(`${app.url}/boom`);
      expect(res.status).toBe(expectedStatus);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: expectedStatus, code: makeError().code });
    });

    it('leaves other errors to the framework', async () => {
      const res = await fetch(`${app.url}/plain`);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type') ?? '').not.toMatch(/problem\+json/);
    });
  });
}
