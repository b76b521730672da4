import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  addEvent,
  continueTrace,
  currentSpan,
  currentTraceId,
  currentTraceIds,
  injectTraceHeaders,
  isPlatErrorLike,
  recordError,
  setAttributes,
  setupTracing,
  type TracingHandle,
  traced,
  withSpan,
} from './helpers/imports';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function spansOf(handle: TracingHandle): ReadableSpan[] {
  return handle.memoryExporter?.getFinishedSpans() ?? [];
}
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('manual spans', () => {
  let handle: TracingHandle;
  beforeAll(() => {
    handle = setupTracing({ serviceName: 'unit', exporter: 'memory', instrumentations: false });
  });
  afterAll(() => handle.shutdown());
  beforeEach(() => handle.memoryExporter?.reset());

  it('withSpan runs sync functions inside a span and ends it', () => {
    const result = withSpan(
      'sync-work',
      (span) => {
        expect(currentSpan()).toBe(span);
        return 42;
      },
      { 'work.kind': 'sync' },
    );
    expect(result).toBe(42);
    const [span] = spansOf(handle);
    expect(span?.name).toBe('sync-work');
    expect(span?.attributes['work.kind']).toBe('sync');
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(currentSpan()).toBeUndefined();
  });

  it('withSpan nests across await and ends spans when promises settle', async () => {
    await withSpan('outer', async () => {
      await tick();
      await withSpan('inner', async () => {
        await tick();
        setAttributes({ 'inner.step': 2 });
        addEvent('halfway', { 'inner.progress': 0.5 });
      });
      await tick();
    });
    const spans = spansOf(handle);
    const outer = spans.find((s) => s.name === 'outer')!;
    const inner = spans.find((s) => s.name === 'inner')!;
    expect(parentId(inner)).toBe(outer.spanContext().spanId);
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(parentId(outer)).toBeUndefined();
    expect(inner.attributes['inner.step']).toBe(2);
    expect(inner.events.map((e) => e.name)).toEqual(['halfway']);
  });

  it('records thrown errors and rejections, marks the span failed and rethrows', async () => {
    expect(() =>
      withSpan('sync-fail', () => {
        throw new TypeError('bad input');
      }),
    ).toThrow('bad input');
    await expect(
      withSpan('async-fail', async () => {
        await tick();
        throw Object.assign(new Error('upstream down'), { code: 'ECONNREFUSED' });
      }),
    ).rejects.toThrow('upstream down');
    const syncFail = spansOf(handle).find((s) => s.name === 'sync-fail')!;
    const asyncFail = spansOf(handle).find((s) => s.name === 'async-fail')!;
    expect(syncFail.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' });
    expect(syncFail.attributes['error.type']).toBe('TypeError');
    expect(syncFail.events[0]?.name).toBe('exception');
    expect(syncFail.events[0]?.attributes?.['exception.message']).toBe('bad input');
    expect(asyncFail.status.code).toBe(SpanStatusCode.ERROR);
    expect(asyncFail.attributes['error.type']).toBe('ECONNREFUSED');
    expect(asyncFail.ended).toBe(true);
  });

  it('@traced wraps sync and async methods, names spans by class and method, nests across await', async () => {
    class Runner {
      static created = 0;
      constructor(readonly prefix: string) {}

      @traced()
      async run(id: string): Promise<string> {
        await tick();
        const label = this.label(id);
        await tick();
        return label;
      }

      @traced({ name: 'runner.label', attributes: { 'runner.kind': 'dag' } })
      label(id: string): string {
        return `${this.prefix}-${id}`;
      }

      @traced()
      async explode(): Promise<never> {
        await tick();
        throw new RangeError('no such node');
      }

      @traced()
      static make(): Runner {
        Runner.created++;
        return new Runner('s');
      }
    }
    const runner = Runner.make();
    expect(await runner.run('7')).toBe('s-7');
    await expect(runner.explode()).rejects.toThrow('no such node');
    const spans = spansOf(handle);
    const run = spans.find((s) => s.name === 'Runner.run')!;
    const label = spans.find((s) => s.name === 'runner.label')!;
    expect(spans.find((s) => s.name === 'Runner.make')).toBeDefined();
    expect(parentId(label)).toBe(run.spanContext().spanId);
    expect(label.attributes).toMatchObject({ 'runner.kind': 'dag', 'code.function.name': 'Runner.label' });
    expect(run.attributes['code.function.name']).toBe('Runner.run');
    const explode = spans.find((s) => s.name === 'Runner.explode')!;
    expect(explode.status.code).toBe(SpanStatusCode.ERROR);
    expect(explode.attributes['error.type']).toBe('RangeError');
  });

  it('concurrent async spans keep their own parents', async () => {
    await withSpan('root', () =>
      Promise.all(
        ['a', 'b', 'c'].map((name) =>
          withSpan(`branch-${name}`, async () => {
            await tick();
            await withSpan(`leaf-${name}`, tick);
          }),
        ),
      ),
    );
    const spans = spansOf(handle);
    for (const name of ['a', 'b', 'c']) {
      const branch = spans.find((s) => s.name === `branch-${name}`)!;
      const leaf = spans.find((s) => s.name === `leaf-${name}`)!;
      expect(parentId(leaf)).toBe(branch.spanContext().spanId);
    }
  });

  it('exposes the current trace and span ids, and nothing outside spans', () => {
    expect(currentTraceIds()).toBeUndefined();
    expect(currentTraceId()).toBeUndefined();
    expect(setAttributes({ a: 1 })).toBe(false);
    expect(addEvent('nothing')).toBe(false);
    expect(recordError(new Error('x'))).toBe(false);
    withSpan('ids', (span) => {
      const ids = currentTraceIds()!;
      expect(ids.traceId).toBe(span.spanContext().traceId);
      expect(ids.spanId).toBe(span.spanContext().spanId);
      expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ids.sampled).toBe(true);
      expect(ids.traceparent).toBe(`00-${ids.traceId}-${ids.spanId}-01`);
    });
  });

  it('carries trace context through headers to a consumer', async () => {
    const headers = withSpan('producer', () => injectTraceHeaders<Record<string, string>>({}));
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await continueTrace(headers, () => withSpan('consumer', tick));
    const producer = spansOf(handle).find((s) => s.name === 'producer')!;
    const consumer = spansOf(handle).find((s) => s.name === 'consumer')!;
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(parentId(consumer)).toBe(producer.spanContext().spanId);
  });

  it('recordError marks the active span without throwing', () => {
    withSpan('handled', () => {
      expect(recordError(new Error('fallback used'))).toBe(true);
    });
    const span = spansOf(handle).find((s) => s.name === 'handled')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events[0]?.name).toBe('exception');
  });

  it('sets the resource from options', () => {
    const attributes = handle.resource!.attributes;
    expect(attributes['service.name']).toBe('unit');
    expect(attributes['telemetry.sdk.language']).toBe('nodejs');
  });
});

describe('setupTracing', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('refuses a second setup while one is active, and allows one after shutdown', async () => {
    const first = setupTracing({ exporter: 'memory', instrumentations: false });
    expect(() => setupTracing({ exporter: 'memory', instrumentations: false })).toThrow(
      expect.objectContaining({ code: 'ALREADY_SET_UP' }),
    );
    await first.shutdown();
    await first.shutdown();
    const second = setupTracing({ exporter: 'memory', instrumentations: false });
    withSpan('after-restart', () => {});
    expect(second.memoryExporter?.getFinishedSpans().map((s) => s.name)).toEqual(['after-restart']);
    await second.shutdown();
    // After shutdown the API is a no-op again.
    withSpan('no-provider', (span) => expect(span.isRecording()).toBe(false));
  });

  it.each([
    [{ sampleRatio: 2 }, /sampleRatio/],
    [{ sampleRatio: Number.NaN }, /sampleRatio/],
    [{ exporter: 'jaeger' as never }, /exporter/],
    [{ otlp: { url: 'not a url' } }, /otlp.url/],
    [{ otlp: { url: 'ftp://collector:4318' } }, /otlp.url/],
    [{ otlp: { protocol: 'grpc' as never } }, /otlp.protocol/],
    [{ batch: { maxQueueSize: -1 } }, /batch.maxQueueSize/],
    [{ serviceName: '' }, /serviceName/],
  ])('rejects invalid options %j with INVALID_OPTIONS', (options, message) => {
    let caught: unknown;
    try {
      setupTracing({ ...options, instrumentations: false });
    } catch (error) {
      caught = error;
    }
    expect(isPlatErrorLike(caught, 'INVALID_OPTIONS')).toBe(true);
    expect((caught as Error).message).toMatch(message);
    // Nothing was registered by the failed call.
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false);
  });

  it('reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and the sampler from the environment', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.namespace=plat,deployment.environment.name=staging';
    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    const handle = setupTracing({ exporter: 'memory', instrumentations: false });
    try {
      const attributes = handle.resource!.attributes;
      expect(attributes['service.name']).toBe('from-env');
      expect(attributes['service.namespace']).toBe('plat');
      expect(attributes['deployment.environment.name']).toBe('staging');
      withSpan('dropped', () => {});
      expect(handle.memoryExporter?.getFinishedSpans()).toEqual([]);
    } finally {
      await handle.shutdown();
    }
  });

  it('lets explicit options win over the environment', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    const handle = setupTracing({
      exporter: 'memory',
      instrumentations: false,
      serviceName: 'from-code',
      serviceVersion: '1.2.3',
      environment: 'production',
      sampleRatio: 1,
    });
    try {
      expect(handle.resource!.attributes).toMatchObject({
        'service.name': 'from-code',
        'service.version': '1.2.3',
        'deployment.environment.name': 'production',
      });
      withSpan('kept', () => {});
      expect(handle.memoryExporter?.getFinishedSpans()).toHaveLength(1);
    } finally {
      await handle.shutdown();
    }
  });

  it('does nothing when OTEL_SDK_DISABLED=true', async () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    const handle = setupTracing({ exporter: 'memory' });
    expect(handle.enabled).toBe(false);
    withSpan('noop', (span) => expect(span.isRecording()).toBe(false));
    await handle.shutdown();
  });

  it('honours OTEL_PROPAGATORS', async () => {
    process.env.OTEL_PROPAGATORS = 'tracecontext';
    const handle = setupTracing({ exporter: 'memory', instrumentations: false });
    try {
      expect(propagation.fields()).toEqual(['traceparent', 'tracestate']);
    } finally {
      await handle.shutdown();
    }
  });
});

describe('sampling', () => {
  const remote = (flags: number) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      spanId: 'bbbbbbbbbbbbbbbb',
      traceFlags: flags,
      isRemote: true,
    });

  it('records about the configured share of new traces', async () => {
    const handle = setupTracing({ exporter: 'memory', sampleRatio: 0.25, instrumentations: false });
    try {
      for (let i = 0; i < 2000; i++) withSpan('root', () => withSpan('child', () => {}));
      const spans = handle.memoryExporter!.getFinishedSpans();
      const roots = spans.filter((s) => s.name === 'root').length;
      // Binomial(2000, 0.25): mean 500, sd ~19; the bounds are over 5 sd away.
      expect(roots).toBeGreaterThan(400);
      expect(roots).toBeLessThan(600);
      // Children follow their root: no trace is cut in half.
      expect(spans.filter((s) => s.name === 'child').length).toBe(roots);
    } finally {
      await handle.shutdown();
    }
  });

  it('follows the parent decision whatever the ratio', async () => {
    const never = setupTracing({ exporter: 'memory', sampleRatio: 0, instrumentations: false });
    try {
      context.with(remote(1), () => withSpan('sampled-parent', () => {}));
      withSpan('new-root', () => {});
      expect(never.memoryExporter!.getFinishedSpans().map((s) => s.name)).toEqual(['sampled-parent']);
    } finally {
      await never.shutdown();
    }
    const always = setupTracing({ exporter: 'memory', sampleRatio: 1, instrumentations: false });
    try {
      context.with(remote(0), () => withSpan('unsampled-parent', () => {}));
      expect(always.memoryExporter!.getFinishedSpans()).toEqual([]);
    } finally {
      await always.shutdown();
    }
  });
});
