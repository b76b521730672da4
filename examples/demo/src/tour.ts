/**
 * `pnpm demo`: a narrated tour on embedded defaults (no PostgreSQL, Redis or collector needed).
 * Until the example services land, the tour shows the foundation every package stands on: one
 * request context across frameworks and awaits, and typed errors answered as problem+json.
 */
import type { AddressInfo } from 'node:net';
import { CoreError, currentContext, type PlatRoute } from '@plat/core';
import { fastifyPlugin, fastifyRoutes } from '@plat/core/fastify';
import Fastify from 'fastify';

const packages = [
  '@plat/tracing',
  '@plat/logging',
  '@plat/health',
  '@plat/apikeys',
  '@plat/input-guard',
  '@plat/cache-deps',
  '@plat/cache-warm',
  '@plat/event-store',
  '@plat/db-perf',
];

function step(title: string, detail: string): void {
  console.log(`\n▸ ${title}\n  ${detail.split('\n').join('\n  ')}`);
}

async function main(): Promise<void> {
  console.log('plat demo: the SDK on embedded defaults\n');

  for (const name of packages) {
    const mod = (await import(name)) as Record<string, unknown>;
    const exported = Object.keys(mod).sort().join(', ');
    step(`${name} loads`, `exports: ${exported}`);
  }

  const routes: PlatRoute[] = [
    {
      method: 'GET',
      path: '/workflows/:id',
      handler: async (ex) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { status: 200, body: { id: ex.params.id, requestId: currentContext()?.requestId } };
      },
    },
    {
      method: 'POST',
      path: '/workflows',
      handler: async (ex) => {
        const body = await ex.readBody();
        if (typeof body !== 'object' || body === null || !('name' in body)) {
          throw new CoreError('INVALID_BODY', 'A workflow needs a name');
        }
        return { status: 201, body };
      },
    },
  ];

  const app = Fastify();
  const seen: string[] = [];
  await app.register(
    fastifyPlugin((ex) => {
      ex.onFinish((res) =>
        seen.push(`${ex.method} ${ex.route()} -> ${res.status} (request ${ex.context.requestId})`),
      );
      return undefined;
    }),
  );
  await app.register(fastifyRoutes(routes));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const read = await fetch(`${base}/workflows/42`, { headers: { 'x-request-id': 'demo-1' } });
  step(
    'one request context, across an await',
    `GET /workflows/42 with x-request-id: demo-1 answered ${JSON.stringify(await read.json())}`,
  );

  const bad = await fetch(`${base}/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'no name' }),
  });
  step(
    'a typed error answered as RFC 9457 problem+json',
    `${bad.status} ${bad.headers.get('content-type')}\n${JSON.stringify(await bad.json())}`,
  );

  await app.close();
  step('what the request hook saw (route templates, never raw URLs)', seen.join('\n'));
  console.log(
    '\nThe example workflow service arrives with the examples issue; run the tests with: pnpm test\n',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
