import type { IncomingMessage } from 'node:http';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import * as v from 'valibot';
import { InputGuardError, noPathTraversal, safeText, VALIDATED } from '../src';
import {
  getValidated as expressGetValidated,
  errorHandler as expressHandler,
  validate as expressValidate,
} from '../src/express';
import { errorHandler as fastifyHandler, validate as fastifyValidate } from '../src/fastify';
import { errorHandler as koaHandler, validate as koaValidate } from '../src/koa';

describeErrorHandlers(
  '@plat/input-guard',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new InputGuardError('INVALID_OPTIONS', 'bad options'),
  500,
);

const schemas = {
  params: v.object({ id: v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,32}$/)) }),
  query: v.object({
    view: v.optional(v.picklist(['full', 'short']), 'short'),
    file: v.optional(v.pipe(v.string(), noPathTraversal({ level: 'strict' }))),
  }),
  body: v.object({
    name: v.pipe(v.string(), v.trim(), v.minLength(1), safeText({ allowNewlines: false })),
    tags: v.optional(v.array(v.pipe(v.string(), safeText({ level: 'strict' }))), []),
  }),
};

/** What the handler answers: the parsed output, read both ways. */
function answer(raw: IncomingMessage) {
  const fromContext = expressGetValidated<typeof schemas>();
  const fromRequest = (raw as unknown as Record<symbol, unknown>)[VALIDATED];
  return { validated: fromContext, same: fromContext === fromRequest };
}

describe.each(frameworks)('validate() on $name', (fw) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fw.start({
      express(server) {
        server.post('/workflows/:id', expressValidate(schemas), (req, res) => {
          res.json(answer(req));
        });
      },
      fastify(server) {
        server.post('/workflows/:id', { preHandler: fastifyValidate(schemas) }, async (request) =>
          answer(request.raw),
        );
      },
      koa(_server, router) {
        router.post('/workflows/:id', koaValidate(schemas), (ctx) => {
          ctx.body = answer(ctx.req);
        });
      },
    });
  });
  afterAll(() => app.close());

  const post = (path: string, body: unknown) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('passes valid input and hands the parsed output to the handler', async () => {
    const res = await post('/workflows/wf-1?view=full', { name: '  Nightly report  ', tags: ['ops'] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      validated: {
        params: { id: 'wf-1' },
        query: { view: 'full' },
        body: { name: 'Nightly report', tags: ['ops'] },
      },
      same: true,
    });
  });

  it('answers 400 problem+json with field paths and reason codes, never the input', async () => {
    const marker = 'secret-marker-42';
    const res = await post(`/workflows/BAD_ID?file=..%2F..%2F${marker}`, {
      name: `<script>${marker}</script>`,
      tags: ['fine', `${marker}' OR '1'='1`],
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    expect(text).not.toContain(marker);
    const body = JSON.parse(text) as {
      code: string;
      issues: Array<{ location: string; path: string; code: string }>;
    };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.issues.map(({ location, path, code }) => ({ location, path, code }))).toEqual([
      { location: 'params', path: 'id', code: 'schema.regex' },
      { location: 'query', path: 'file', code: 'path.traversal' },
      { location: 'body', path: 'name', code: 'xss.script-element' },
      { location: 'body', path: 'tags.1', code: 'sqli.tautology' },
    ]);
  });

  it('refuses a body of the wrong shape', async () => {
    const res = await post('/workflows/wf-1', { name: 42, tags: 'ops' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { instance?: string; issues: Array<{ path: string; code: string }> };
    expect(body.issues.map((i) => [i.path, i.code])).toEqual([
      ['name', 'schema.string'],
      ['tags', 'schema.array'],
    ]);
    // The route template, never the URL the client sent.
    expect(body.instance).toBe('/workflows/:id');
  });
});
