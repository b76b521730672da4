import { createRequestContext, PlatError, runWithContext, setPrincipal } from '@plat/core';
import {
  createLogger,
  createMemoryTransport,
  ECS_VERSION,
  type LoggerOptions,
  type MemoryTransport,
} from '../src';
import { WRITE_WITH } from '../src/logger';
import type { HttpLine } from '../src/types';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const fakeSpan = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };

function setup(options: LoggerOptions = {}) {
  const memory = createMemoryTransport();
  const logger = createLogger({ transports: [memory], logUncaught: false, trace: false, ...options });
  return { memory, logger };
}

function only(memory: MemoryTransport): Record<string, unknown> {
  expect(memory.lines).toHaveLength(1);
  return memory.records()[0] as Record<string, unknown>;
}

const http: HttpLine = {
  method: 'GET',
  route: '/items/:id',
  path: '/items/7',
  status: 201,
  durationMs: 12.3456,
  bytes: 42,
  userAgent: 'curl/8.5',
  remoteAddress: '127.0.0.1',
  protocol: 'HTTP/1.1',
  aborted: false,
};

type WriteWith = (...args: unknown[]) => void;
const writeWith = (logger: unknown): WriteWith =>
  (logger as { [WRITE_WITH]: WriteWith })[WRITE_WITH].bind(logger);

/** Writes one request line the way the request middleware does, with a captured context and span. */
function requestLine(options: LoggerOptions) {
  const { memory, logger } = setup(options);
  const context = createRequestContext({ requestId: 'req-1', principal: { id: 'alice' }, tenantId: 'acme' });
  writeWith(logger)('info', 'GET /items/:id 201 12.3 ms', { extra: 1 }, { context, span: fakeSpan }, http);
  return memory;
}

describe('json format', () => {
  it('writes time, level, message, context and fields in that order', () => {
    const { memory, logger } = setup({ fields: { service: 'svc' } });
    runWithContext({ requestId: 'req-1' }, () => {
      setPrincipal({ id: 'alice', tenantId: 'acme' });
      logger.info('hello', { count: 3, nested: { ok: true } });
    });
    const line = memory.lines[0] as string;
    const record = only(memory);
    expect(record.timestamp).toMatch(ISO);
    expect(Object.keys(record)).toEqual([
      'timestamp',
      'level',
      'message',
      'request_id',
      'principal_id',
      'tenant_id',
      'service',
      'count',
      'nested',
    ]);
    expect(record).toMatchObject({
      level: 'info',
      message: 'hello',
      request_id: 'req-1',
      principal_id: 'alice',
      tenant_id: 'acme',
      service: 'svc',
      count: 3,
      nested: { ok: true },
    });
    expect(line.includes('\n')).toBe(false);
  });

  it('omits context fields outside a request and when turned off', () => {
    const { memory, logger } = setup();
    logger.info('outside');
    const { memory: off, logger: noContext } = setup({ context: false });
    runWithContext({ requestId: 'req-2' }, () => noContext.info('inside'));
    expect(Object.keys(only(memory))).toEqual(['timestamp', 'level', 'message']);
    expect(Object.keys(only(off))).toEqual(['timestamp', 'level', 'message']);
  });

  it('writes the request line fields under http', () => {
    const record = only(requestLine({ format: 'json' }));
    expect(record).toMatchObject({
      level: 'info',
      message: 'GET /items/:id 201 12.3 ms',
      trace_id: fakeSpan.traceId,
      span_id: fakeSpan.spanId,
      trace_flags: '01',
      extra: 1,
      http: {
        method: 'GET',
        route: '/items/:id',
        path: '/items/7',
        status: 201,
        duration_ms: 12.346,
        bytes: 42,
        user_agent: 'curl/8.5',
        remote_address: '127.0.0.1',
        protocol: 'HTTP/1.1',
      },
    });
    expect((record.http as Record<string, unknown>).aborted).toBeUndefined();
  });

  it('serialises errors with name, message, stack, own fields and the cause chain', () => {
    const { memory, logger } = setup();
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const error = new PlatError('UPSTREAM', 'upstream failed', { cause: root, details: { attempt: 2 } });
    logger.error('saving failed', error);
    const record = only(memory);
    expect(record.message).toBe('saving failed');
    const serialised = record.error as Record<string, unknown>;
    expect(serialised).toMatchObject({
      name: 'PlatError',
      message: 'upstream failed',
      code: 'UPSTREAM',
      details: { attempt: 2 },
      cause: { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' },
    });
    expect(serialised.stack).toEqual(expect.stringContaining('PlatError: upstream failed'));
    expect((serialised.cause as Record<string, unknown>).stack).toEqual(
      expect.stringContaining('socket hang up'),
    );
  });

  it('takes the message from an error given first, and accepts (fields, message)', () => {
    const { memory, logger } = setup();
    logger.warn(new TypeError('bad input'), { field: 'name' });
    logger.info({ orderId: 'o-1' }, 'order placed');
    const [first, second] = memory.records();
    expect(first).toMatchObject({
      level: 'warn',
      message: 'bad input',
      field: 'name',
      error: { name: 'TypeError' },
    });
    expect(second).toMatchObject({ message: 'order placed', orderId: 'o-1' });
  });

  it('handles circular objects, BigInt, Maps, Sets, buffers, dates and deep nesting', () => {
    const { memory, logger } = setup({ maxDepth: 4 });
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const shared = { id: 1 };
    const date = new Date('2024-01-02T03:04:05.000Z');
    logger.info('values', {
      circular,
      twice: [shared, shared],
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, 'b'],
      ]),
      set: new Set([1, 2]),
      buffer: Buffer.from('secret bytes'),
      date,
      deep: { a: { b: { c: { d: { e: 1 } } } } },
      fn: () => 1,
      nothing: undefined,
    });
    const record = only(memory);
    expect(record).toMatchObject({
      circular: { name: 'loop', self: '[Circular]' },
      twice: [{ id: 1 }, { id: 1 }],
      big: '12345678901234567890',
      map: { a: 1, 2: 'b' },
      set: [1, 2],
      buffer: '[Buffer 12 bytes]',
      date: '2024-01-02T03:04:05.000Z',
      deep: { a: { b: { c: { d: '[Object]' } } } },
    });
    expect(record).not.toHaveProperty('fn');
    expect(record).not.toHaveProperty('nothing');
  });

  it('keeps a field named like a record field as fields.<name> instead of overwriting it', () => {
    const { memory, logger } = setup();
    runWithContext({ requestId: 'real' }, () =>
      logger.info('m', { level: 'fake', request_id: 'spoofed', other: 1 }),
    );
    expect(only(memory)).toMatchObject({
      level: 'info',
      request_id: 'real',
      'fields.level': 'fake',
      'fields.request_id': 'spoofed',
      other: 1,
    });
  });

  it('binds fields in children, later bindings and line fields winning', () => {
    const { memory, logger } = setup({ fields: { service: 'svc', region: 'eu' } });
    const child = logger.child({ component: 'db', region: 'us' }).child({ table: 'orders' });
    child.info('query', { table: 'items' });
    expect(only(memory)).toMatchObject({ service: 'svc', region: 'us', component: 'db', table: 'items' });
  });

  it('drops lines below the level before doing any work, and shares the level with children', () => {
    const { memory, logger } = setup({ level: 'warn' });
    const child = logger.child({ c: 1 });
    let touched = false;
    const fields = {
      get costly() {
        touched = true;
        return 1;
      },
    };
    logger.info('dropped', fields);
    child.debug('dropped');
    expect(touched).toBe(false);
    expect(logger.isLevelEnabled('info')).toBe(false);
    child.level = 'debug';
    expect(logger.level).toBe('debug');
    logger.debug('kept');
    logger.log('trace', 'dropped');
    logger.log('error', 'kept too');
    expect(memory.records().map((r) => r.message)).toEqual(['kept', 'kept too']);
  });

  it('rejects invalid options with a typed error', () => {
    expect(() => createLogger({ level: 'loud' as never, transports: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => createLogger({ format: 'xml' as never, transports: [] })).toThrow(/format/);
    expect(() => createLogger({ maxDepth: 0, transports: [] })).toThrow(/maxDepth/);
    const { logger } = setup();
    expect(() => {
      logger.level = 'nope' as never;
    }).toThrow(/level/);
  });

  it('takes level and format from LOG_LEVEL and LOG_FORMAT when not given', () => {
    process.env.LOG_LEVEL = 'debug';
    process.env.LOG_FORMAT = 'ecs';
    try {
      const { memory, logger } = setup();
      expect(logger.level).toBe('debug');
      logger.debug('from env');
      expect(only(memory)['log.level']).toBe('debug');
    } finally {
      delete process.env.LOG_LEVEL;
      delete process.env.LOG_FORMAT;
    }
  });
});

describe('gcp format', () => {
  it('writes severity, message, time, trace fields and context', () => {
    const { memory, logger } = setup({ format: 'gcp', gcpProjectId: 'my-project' });
    // The captured scope wins over the current one: no request context given here, only a span.
    runWithContext({ requestId: 'ignored' }, () =>
      writeWith(logger)('warn', 'careful', { level: 'user level' }, { context: undefined, span: fakeSpan }),
    );
    const record = only(memory);
    expect(Object.keys(record).slice(0, 3)).toEqual(['severity', 'message', 'time']);
    expect(record).toEqual({
      severity: 'WARNING',
      message: 'careful',
      time: expect.stringMatching(ISO),
      'logging.googleapis.com/trace': `projects/my-project/traces/${fakeSpan.traceId}`,
      'logging.googleapis.com/spanId': fakeSpan.spanId,
      'logging.googleapis.com/trace_sampled': true,
      'fields.level': 'user level',
    });
  });

  it('maps every level to a Cloud Logging severity', () => {
    const { memory, logger } = setup({ format: 'gcp', level: 'trace' });
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) logger[level]('x');
    expect(memory.records().map((r) => r.severity)).toEqual([
      'CRITICAL',
      'ERROR',
      'WARNING',
      'INFO',
      'DEBUG',
      'DEBUG',
    ]);
  });

  it('writes request context and an httpRequest for request lines', () => {
    const record = only(requestLine({ format: 'gcp', gcpProjectId: 'p1' }));
    expect(record).toMatchObject({
      severity: 'INFO',
      'logging.googleapis.com/trace': `projects/p1/traces/${fakeSpan.traceId}`,
      'logging.googleapis.com/spanId': fakeSpan.spanId,
      'logging.googleapis.com/trace_sampled': true,
      httpRequest: {
        requestMethod: 'GET',
        requestUrl: '/items/7',
        status: 201,
        responseSize: '42',
        userAgent: 'curl/8.5',
        remoteIp: '127.0.0.1',
        latency: '0.0123456s',
        protocol: 'HTTP/1.1',
      },
      route: '/items/:id',
      extra: 1,
    });
  });

  it('puts the bare trace id in the payload without a project id, and marks unsampled spans', () => {
    for (const name of ['GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'GCP_PROJECT']) delete process.env[name];
    const { memory, logger } = setup({ format: 'gcp' });
    const context = createRequestContext({ requestId: 'r-9' });
    writeWith(logger)('info', 'm', undefined, { context, span: { ...fakeSpan, traceFlags: 0 } });
    const record = only(memory);
    expect(record).not.toHaveProperty('logging.googleapis.com/trace');
    expect(record).toMatchObject({
      trace_id: fakeSpan.traceId,
      request_id: 'r-9',
      'logging.googleapis.com/trace_sampled': false,
    });
  });

  it('reports errors to Error Reporting with stack_trace and the event type', () => {
    const { memory, logger } = setup({ format: 'gcp' });
    logger.error('failed', new Error('boom'));
    logger.warn('recovered', new Error('minor'));
    const [error, warning] = memory.records();
    expect(error).toMatchObject({
      severity: 'ERROR',
      '@type': 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent',
      stack_trace: expect.stringContaining('Error: boom'),
      error: { name: 'Error', message: 'boom' },
    });
    expect(warning).not.toHaveProperty('@type');
    expect(warning?.stack_trace).toEqual(expect.stringContaining('Error: minor'));
  });
});

describe('ecs format', () => {
  it('writes @timestamp, log.level, message, ecs.version and context', () => {
    const { memory, logger } = setup({ format: 'ecs' });
    runWithContext({ requestId: 'req-1' }, () => {
      setPrincipal({ id: 'alice', tenantId: 'acme' });
      logger.info('hello', { labels: { team: 'core' } });
    });
    const record = only(memory);
    expect(record).toEqual({
      '@timestamp': expect.stringMatching(ISO),
      'log.level': 'info',
      message: 'hello',
      'ecs.version': ECS_VERSION,
      http: { request: { id: 'req-1' } },
      user: { id: 'alice' },
      organization: { id: 'acme' },
      labels: { team: 'core' },
    });
  });

  it('writes trace.id, span.id and the request as http, url, user_agent, client and event', () => {
    const record = only(requestLine({ format: 'ecs' }));
    expect(record).toMatchObject({
      'log.level': 'info',
      trace: { id: fakeSpan.traceId },
      span: { id: fakeSpan.spanId },
      http: {
        request: { method: 'GET' },
        response: { status_code: 201, body: { bytes: 42 } },
        route: '/items/:id',
        version: '1.1',
      },
      url: { path: '/items/7' },
      user_agent: { original: 'curl/8.5' },
      client: { address: '127.0.0.1' },
      event: { duration: 12345600 },
      extra: 1,
    });
  });

  it('writes errors as error.type, error.message and error.stack_trace', () => {
    const { memory, logger } = setup({ format: 'ecs' });
    logger.error(Object.assign(new RangeError('out of range'), { code: 'E_RANGE' }));
    expect(only(memory)).toMatchObject({
      message: 'out of range',
      error: {
        type: 'RangeError',
        message: 'out of range',
        stack_trace: expect.stringContaining('RangeError: out of range'),
        code: 'E_RANGE',
      },
    });
  });
});

describe('pretty format', () => {
  it('writes a readable line with the fields and the stack, coloured only when asked', () => {
    const { memory, logger } = setup({ format: 'pretty', colors: false });
    runWithContext({ requestId: 'req-1' }, () =>
      logger.error('it broke', new Error('boom', { cause: new Error('root cause') })),
    );
    logger.info('with fields', { user: 'bob smith', n: 2, password: 'x' });
    const [first, second] = memory.lines;
    expect(first).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} ERROR it broke {2}request_id=req-1\n {4}Error: boom\n/);
    expect(first).toContain('[cause]:');
    expect(first).toContain('Error: root cause');
    expect(second).toMatch(/INFO {2}with fields {2}user="bob smith" n=2 password=\[REDACTED\]$/);
    expect(first).not.toContain('\u001b[');

    const { memory: coloured, logger: colourful } = setup({ format: 'pretty', colors: true });
    colourful.warn('careful');
    expect(coloured.lines[0]).toContain('\u001b[33mWARN ');
  });
});
