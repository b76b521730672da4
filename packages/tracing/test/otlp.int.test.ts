import { SpanKind } from '@opentelemetry/api';
import type { OtlpProtocol } from '../src';
import { runFixture } from './helpers/fixture';
import { startOtlpReceiver } from './helpers/otlp-receiver';

// The exporter runs in a plain Node process (test/fixtures/otlp-export.ts): it loads its HTTP
// transport with a dynamic import, which jest's module system does not support.

describe.each<OtlpProtocol>(['http/protobuf', 'http/json'])('OTLP round trip over %s', (protocol) => {
  it('exports spans to a real OTLP/HTTP receiver, decoded with resource, ids, attributes and status', async () => {
    const receiver = await startOtlpReceiver();
    try {
      await runFixture('otlp-export', { FIXTURE_OTLP_URL: receiver.url, FIXTURE_PROTOCOL: protocol });

      expect(receiver.exports.length).toBeGreaterThan(0);
      const [first] = receiver.exports;
      expect(first?.path).toBe('/v1/traces');
      expect(first?.headers['content-type']).toBe(
        protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
      );
      expect(first?.headers['x-tenant-token']).toBe('tk');

      const spans = receiver.exports.flatMap((e) => e.spans);
      expect(spans.map((s) => s.name).sort()).toEqual(['workflow.fail', 'workflow.node', 'workflow.run']);
      const run = spans.find((s) => s.name === 'workflow.run')!;
      const node = spans.find((s) => s.name === 'workflow.node')!;
      const fail = spans.find((s) => s.name === 'workflow.fail')!;
      expect(run.resource).toMatchObject({
        'service.name': 'otlp-roundtrip',
        'service.version': '2.0.0',
        'deployment.environment.name': 'test',
        'telemetry.sdk.language': 'nodejs',
      });
      expect(run.scope).toBe('@plat/tracing');
      expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(run.parentSpanId).toBe('');
      // OTLP span kinds are the API's plus one (0 is UNSPECIFIED).
      expect(run.kind).toBe(SpanKind.SERVER + 1);
      expect(run.attributes['workflow.id']).toBe('wf-1');
      expect(node.traceId).toBe(run.traceId);
      expect(node.parentSpanId).toBe(run.spanId);
      expect(node.attributes).toMatchObject({ 'workflow.nodes': 3, 'workflow.ok': true, ratio: 0.5 });
      expect(fail.parentSpanId).toBe(run.spanId);
      expect(fail.status).toEqual({ code: 2, message: 'node 4 failed' });
      expect(fail.events).toEqual(['exception']);
      expect(fail.attributes['error.type']).toBe('Error');
    } finally {
      await receiver.close();
    }
  }, 30_000);

  it('finds the receiver through OTEL_EXPORTER_OTLP_ENDPOINT and the protocol variable', async () => {
    const receiver = await startOtlpReceiver();
    try {
      await runFixture('otlp-export', {
        FIXTURE_FROM_ENV: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: 'from-env',
      });
      const spans = receiver.exports.flatMap((e) => e.spans);
      expect(receiver.exports[0]?.path).toBe('/v1/traces');
      expect(receiver.exports[0]?.headers['content-type']).toBe(
        protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
      );
      expect(spans.map((s) => s.name).sort()).toEqual(['workflow.fail', 'workflow.node', 'workflow.run']);
      expect(spans[0]?.resource['service.name']).toBe('from-env');
    } finally {
      await receiver.close();
    }
  }, 30_000);
});
