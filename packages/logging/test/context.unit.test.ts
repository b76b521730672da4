import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { runWithContext, setPrincipal } from '@plat/core';
import { activeSpanIds, createLogger, createMemoryTransport, type LoggerOptions } from '../src';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

function setup(options: LoggerOptions = {}) {
  const memory = createMemoryTransport();
  const logger = createLogger({ transports: [memory], logUncaught: false, ...options });
  return { memory, logger };
}

describe('trace correlation with a real tracer provider', () => {
  const tracer = trace.getTracer('logging-test');

  it('adds the ids of the active span, matching the exported span', async () => {
    const { memory, logger } = setup();
    exporter.reset();
    await tracer.startActiveSpan('work', async (span) => {
      logger.info('before await');
      await sleep(2);
      logger.info('after await');
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          logger.info('in a timer');
          resolve();
        }, 1),
      );
      span.end();
    });
    const [exported] = exporter.getFinishedSpans();
    expect(exported).toBeDefined();
    const { traceId, spanId } = exported?.spanContext() ?? {};
    expect(memory.records()).toEqual(
      ['before await', 'after await', 'in a timer'].map((message) =>
        expect.objectContaining({ message, trace_id: traceId, span_id: spanId, trace_flags: '01' }),
      ),
    );
  });

  it('follows nested spans and goes back to the parent', () => {
    const { memory, logger } = setup();
    tracer.startActiveSpan('parent', (parent) => {
      tracer.startActiveSpan('child', (child) => {
        logger.info('in child');
        child.end();
      });
      logger.info('in parent');
      parent.end();
    });
    logger.info('outside');
    const [inChild, inParent, outside] = memory.records();
    const traceId = inParent?.trace_id;
    expect(inChild?.trace_id).toBe(traceId);
    expect(inChild?.span_id).not.toBe(inParent?.span_id);
    const spans = exporter.getFinishedSpans();
    expect(spans.find((s) => s.name === 'child')?.spanContext().spanId).toBe(inChild?.span_id);
    expect(spans.find((s) => s.name === 'parent')?.spanContext().spanId).toBe(inParent?.span_id);
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });

  it('writes trace_flags 00 for spans that are not sampled', () => {
    const { memory, logger } = setup();
    unsampled.getTracer('off').startActiveSpan('not sampled', (span) => {
      logger.info('m');
      span.end();
    });
    expect(memory.records()[0]).toMatchObject({ trace_flags: '00' });
    expect(memory.records()[0]?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('leaves trace ids out when told to', () => {
    const { memory, logger } = setup({ trace: false });
    tracer.startActiveSpan('work', (span) => {
      logger.info('m');
      span.end();
    });
    expect(memory.records()[0]).not.toHaveProperty('trace_id');
  });

  it('exposes the active span ids for other uses', () => {
    expect(activeSpanIds()).toBeUndefined();
    tracer.startActiveSpan('work', (span) => {
      expect(activeSpanIds()).toEqual(span.spanContext());
      span.end();
    });
  });
});

describe('request context', () => {
  it('propagates across await, timers and microtasks without leaking between concurrent requests', async () => {
    const { memory, logger } = setup();
    const child = logger.child({ component: 'worker' });
    const request = (id: string, delay: number) =>
      runWithContext({ requestId: id }, async () => {
        setPrincipal({ id: `user-${id}`, tenantId: `tenant-${id}` });
        logger.info(id);
        await sleep(delay);
        child.info(id);
        await new Promise<void>((resolve) => setImmediate(resolve));
        logger.info(id);
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            logger.info(id);
            resolve();
          }, delay),
        );
        queueMicrotask(() => logger.info(id));
        await Promise.all([
          sleep(1).then(() => logger.info(id)),
          Promise.resolve().then(() => logger.info(id)),
        ]);
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => request(`r${i}`, (i * 7) % 5)));
    logger.info('after');
    const records = memory.records();
    expect(records).toHaveLength(20 * 7 + 1);
    for (const record of records.slice(0, -1)) {
      expect(record).toMatchObject({
        request_id: record.message,
        principal_id: `user-${String(record.message)}`,
        tenant_id: `tenant-${String(record.message)}`,
      });
    }
    expect(records.at(-1)).not.toHaveProperty('request_id');
    // Lines of different requests really did interleave.
    expect(records.slice(0, 20).map((r) => r.message)).not.toEqual(
      records.slice(20, 40).map((r) => r.message),
    );
  });

  it('reads the context when a line is written, not when the logger was made', () => {
    const { memory, logger } = setup();
    const child = logger.child({ c: 1 });
    runWithContext({ requestId: 'late' }, () => child.info('m'));
    expect(memory.records()[0]).toMatchObject({ request_id: 'late', c: 1 });
  });
});
