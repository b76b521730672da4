import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runWithContext } from '@plat/core';
import winston from 'winston';
import TransportStream from 'winston-transport';
import {
  type BufferedTransport,
  createBufferedTransport,
  createLogger,
  createMemoryTransport,
  type LoggingError,
  platFormat,
} from '../src';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'plat-logging-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const linesOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);

async function eventually(check: () => boolean, limitMs = 5000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('buffered transport', () => {
  it('writes every line, in order, to a file it creates with its folders', async () => {
    const file = join(dir, 'nested', 'deeper', 'app.log');
    const transport = createBufferedTransport({ destination: file });
    const logger = createLogger({ transports: [transport], logUncaught: false });
    for (let i = 0; i < 5000; i++) logger.info('line', { i });
    await logger.flush();
    const records = linesOf(file).map((line) => JSON.parse(line) as { i: number; message: string });
    expect(records.map((r) => r.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    await logger.close();
  });

  it('appends to an existing file', async () => {
    const file = join(dir, 'append.log');
    writeFileSync(file, 'existing line\n');
    const logger = createLogger({
      transports: [createBufferedTransport({ destination: file })],
      logUncaught: false,
    });
    logger.info('new line');
    await logger.close();
    const lines = linesOf(file);
    expect(lines[0]).toBe('existing line');
    expect(JSON.parse(lines[1] as string)).toMatchObject({ message: 'new line' });
  });

  it('holds lines below minLength until the flush interval, then writes them', async () => {
    const file = join(dir, 'interval.log');
    const transport = createBufferedTransport({ destination: file, minLength: 1 << 20, flushIntervalMs: 30 });
    const logger = createLogger({ transports: [transport], logUncaught: false });
    logger.info('quiet');
    expect(linesOf(file)).toEqual([]);
    expect(transport.stats.bufferedChars).toBeGreaterThan(0);
    await eventually(() => linesOf(file).length === 1);
    await logger.close();
  });

  it('writes buffered lines on flush() without waiting for the interval', async () => {
    const file = join(dir, 'flush.log');
    const transport = createBufferedTransport({
      destination: file,
      minLength: 1 << 20,
      flushIntervalMs: 60_000,
    });
    const logger = createLogger({ transports: [transport], logUncaught: false });
    logger.info('one');
    logger.info('two');
    expect(linesOf(file)).toEqual([]);
    await logger.flush();
    expect(linesOf(file).map((line) => JSON.parse(line).message)).toEqual(['one', 'two']);
    await logger.close();
  });

  it('drops lines logged after close and reports that once', async () => {
    const file = join(dir, 'closed.log');
    const failures: LoggingError[] = [];
    const logger = createLogger({
      transports: [createBufferedTransport({ destination: file })],
      logUncaught: false,
      onError: (error) => failures.push(error as LoggingError),
    });
    logger.info('before');
    await logger.close();
    expect(() => {
      logger.info('after 1');
      logger.child({ a: 1 }).error('after 2');
    }).not.toThrow();
    expect(linesOf(file)).toHaveLength(1);
    expect(failures.map((f) => f.code)).toEqual(['LOGGER_CLOSED']);
  });

  it('reports a destination that cannot be written once, and the service goes on', async () => {
    const file = join(dir, 'read-only.log');
    writeFileSync(file, '');
    const fd = openSync(file, 'r');
    const failures: LoggingError[] = [];
    const transport = createBufferedTransport({
      destination: fd,
      minLength: 0,
      onError: (e) => failures.push(e as LoggingError),
    });
    const logger = createLogger({ transports: [transport], logUncaught: false });
    for (let i = 0; i < 50; i++) expect(() => logger.info('lost', { i })).not.toThrow();
    await logger.flush();
    logger.info('still lost');
    await logger.flush();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'WRITE_FAILED' });
    expect(failures[0]?.cause).toMatchObject({ code: 'EBADF' });
    expect(transport.stats.failedBytes).toBeGreaterThan(0);
    closeSync(fd);
  });

  it('drops and counts lines when the destination falls behind, instead of growing without bound', async () => {
    const file = join(dir, 'full.log');
    const failures: LoggingError[] = [];
    const transport = createBufferedTransport({
      destination: file,
      minLength: 1 << 20,
      flushIntervalMs: 60_000,
      maxBufferBytes: 1000,
      onError: (e) => failures.push(e as LoggingError),
    });
    const logger = createLogger({ transports: [transport], logUncaught: false });
    for (let i = 0; i < 100; i++) logger.info('line', { i });
    expect(transport.stats.droppedLines).toBeGreaterThan(80);
    expect(failures.map((f) => f.code)).toEqual(['BUFFER_FULL']);
    await logger.flush();
    const written = linesOf(file).length;
    expect(written + transport.stats.droppedLines).toBe(100);
    await logger.close();
  });

  it('closes once, however often it is asked (winston also closes the transports it unpipes)', async () => {
    const transport = createBufferedTransport({ destination: join(dir, 'twice.log') });
    const logger = createLogger({ transports: [transport], logUncaught: false });
    logger.info('last words');
    const closing = transport.close();
    expect(transport.close()).toBe(closing);
    expect(logger.close()).toBe(logger.close());
    await closing;
    expect(linesOf(join(dir, 'twice.log'))).toHaveLength(1);
  });

  it('rejects destinations it cannot open or understand', () => {
    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, '');
    expect(() => createBufferedTransport({ destination: join(aFile, 'app.log') })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    // Node's own recursive mkdir never returns for this path; start-up must not hang on it.
    expect(() => createBufferedTransport({ destination: '/proc/no-such-dir/app.log' })).toThrow(
      /cannot open/,
    );
    expect(() => createBufferedTransport({ destination: -1 })).toThrow(/file descriptor/);
    expect(() => createBufferedTransport({ destination: '' })).toThrow(/destination/);
  });

  it('plugs into a winston logger of your own, with platFormat', async () => {
    const file = join(dir, 'plain-winston.log');
    const transport: BufferedTransport = createBufferedTransport({ destination: file });
    const logger = winston.createLogger({
      level: 'http',
      format: platFormat({ format: 'ecs' }),
      transports: [transport],
    });
    runWithContext({ requestId: 'r-1' }, () => logger.info('from winston', { password: 'p', n: 1 }));
    logger.log('http', 'npm level');
    await transport.flush();
    const [first, second] = linesOf(file).map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      'log.level': 'info',
      message: 'from winston',
      http: { request: { id: 'r-1' } },
      password: '[REDACTED]',
      n: 1,
    });
    expect(second).toMatchObject({ 'log.level': 'http', message: 'npm level' });
    await transport.close();
  });
});

/** A third-party transport that fails: it throws, or emits an error as winston transports do. */
class BrokenTransport extends TransportStream {
  constructor(private readonly mode: 'throw' | 'emit') {
    super();
  }
  override log(_info: unknown, next: () => void): void {
    if (this.mode === 'throw') throw new Error('transport bug');
    this.emit('error', new Error('disk gone'));
    next();
  }
}

describe('failing transports', () => {
  it.each(['throw', 'emit'] as const)(
    'reports a transport that fails by %s once; logging never throws and other transports go on',
    async (mode) => {
      const memory = createMemoryTransport();
      const failures: LoggingError[] = [];
      const logger = createLogger({
        transports: [new BrokenTransport(mode), memory],
        logUncaught: false,
        onError: (e) => failures.push(e as LoggingError),
      });
      for (let i = 0; i < 20; i++) expect(() => logger.info('m', { i })).not.toThrow();
      await sleep(5);
      expect(failures).toHaveLength(1);
      expect(failures[0]?.code).toBe('TRANSPORT_FAILED');
      expect(memory.records().map((r) => r.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    },
  );

  it('prints a failure to stderr by default, once', async () => {
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const logger = createLogger({ transports: [new BrokenTransport('emit')], logUncaught: false });
      logger.info('a');
      logger.info('b');
    } finally {
      process.stderr.write = original;
    }
    expect(writes).toEqual([
      expect.stringMatching(/^@plat\/logging: transport BrokenTransport failed: disk gone\n$/),
    ]);
  });
});
