/**
 * The Fastify server the HTTP tracing benchmark loads, one process per system, started by
 * http.bench.ts with `node --import tsx server.ts <system> <otlp-url>`. Tracing is set up before
 * Fastify is imported, as a user would do in a preload file, so Node's http module is patched in
 * time for the hand-made setup. The parent reads this process's CPU time over the measured window
 * through IPC.
 */
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { type Dialect, Kysely, SqliteDialect } from 'kysely';

export type SystemName = 'bare' | 'core-bridge' | 'handmade' | 'plat-100' | 'plat-10';

interface WorkflowTable {
  id: number;
  name: string;
  status: string;
}

const [system, otlpUrl] = process.argv.slice(2) as [SystemName, string];

async function setupTracingFor(name: SystemName): Promise<((dialect: Dialect) => Dialect) | undefined> {
  if (name === 'bare' || name === 'core-bridge') return undefined;
  if (name === 'handmade') {
    // The usual hand-made setup: always-on sampling, batch processor, OTLP, http + @fastify/otel.
    const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
    const { AlwaysOnSampler, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    const provider = new NodeTracerProvider({
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpUrl }))],
    });
    provider.register();
    registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [
        new HttpInstrumentation(),
        new FastifyOtelInstrumentation({ registerOnInitialization: true }),
      ],
    });
    return undefined;
  }
  const { setupTracing } = await import('@plat/tracing');
  const { traceDialect } = await import('@plat/tracing/kysely');
  setupTracing({
    serviceName: 'bench-tracing',
    exporter: 'otlp',
    otlp: { url: otlpUrl, protocol: 'http/protobuf' },
    sampleRatio: name === 'plat-100' ? 1 : 0.1,
  });
  return (dialect) => traceDialect(dialect);
}

const wrapDialect = await setupTracingFor(system);

const sqlite = new Database(':memory:');
sqlite.exec('create table workflows (id integer primary key, name text not null, status text not null)');
const insert = sqlite.prepare('insert into workflows (id, name, status) values (?, ?, ?)');
for (let id = 1; id <= 1000; id++) insert.run(id, `workflow ${id}`, id % 3 === 0 ? 'done' : 'running');
const baseDialect = new SqliteDialect({ database: sqlite });
const db = new Kysely<{ workflows: WorkflowTable }>({ dialect: wrapDialect?.(baseDialect) ?? baseDialect });

const { default: Fastify } = await import('fastify');
const app: FastifyInstance = Fastify({ logger: false });
if (system === 'core-bridge') {
  // The @plat/core Fastify bridge with a middleware that does nothing: what every @plat adapter pays.
  const { fastifyPlugin } = await import('@plat/core/fastify');
  await app.register(fastifyPlugin(() => undefined));
}
if (system === 'plat-100' || system === 'plat-10') {
  const { traceRequests } = await import('@plat/tracing/fastify');
  await app.register(traceRequests());
}
app.get('/hello', async () => ({ hello: 'world' }));
app.get<{ Params: { id: string } }>('/workflows/:id', async (request, reply) => {
  const row = await db
    .selectFrom('workflows')
    .selectAll()
    .where('id', '=', Number(request.params.id))
    .executeTakeFirst();
  if (row === undefined) return reply.code(404).send({ error: 'not found' });
  return row;
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;

let cpuAtStart = process.cpuUsage();
process.on('message', (message: { type: string }) => {
  if (message.type === 'start') {
    cpuAtStart = process.cpuUsage();
    process.send?.({ type: 'started' });
  } else if (message.type === 'stop') {
    const used = process.cpuUsage(cpuAtStart);
    process.send?.({ type: 'stopped', cpuMicros: used.user + used.system });
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', port });
