/**
 * pino's benchmark shape: rounds of 10,000 calls logging a small object, each round followed by a
 * `setImmediate`, to a sink that discards and to a real file. Raw winston (`timestamp()` + `json()`)
 * is the baseline; @plat/logging runs with request context, trace ids and redaction on.
 */

import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { currentContext, runWithContext, setPrincipal } from '@plat/core';
import { createBufferedTransport, createLogger, DIRECT_LOG, type Logger } from '@plat/logging';
import pino from 'pino';
import winston from 'winston';
import TransportStream from 'winston-transport';
import { type BenchRow, printTable } from '../harness';

const QUICK = process.env.PLAT_BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 10;
const CALLS = QUICK ? 2_000 : 10_000;
const MESSAGE = Symbol.for('message');

/**
 * A winston transport that takes the finished line and drops it. Its log() finishes synchronously,
 * so it opts into @plat/logging's direct hand-off (winston itself ignores the marker).
 */
class DiscardTransport extends TransportStream {
  readonly [DIRECT_LOG] = true;
  bytes = 0;
  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.bytes += (info[MESSAGE] as string).length;
    next();
  }
}

interface SonicBoomLike {
  flush(cb: (error?: Error) => void): void;
  flushSync(): void;
}

interface System {
  name: string;
  /** Runs `fn` inside whatever scope the system is measured in (a request context and span). */
  scope?: (fn: () => Promise<void>) => Promise<void>;
  log: () => void;
  /** Waits until `lines` lines are in the file (file destinations only). */
  settle?: (lines: number) => Promise<void>;
  file?: string;
}

/** Runs `fn` in the system's scope (a request context and span for @plat/logging). */
function inScope(system: System, fn: () => Promise<void>): Promise<void> {
  return system.scope === undefined ? fn() : system.scope(fn);
}

async function oneRound(system: System): Promise<number> {
  let elapsed = 0;
  await inScope(system, async () => {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) system.log();
    await yieldToLoop();
    elapsed = performance.now() - start;
  });
  return elapsed;
}

/**
 * Rounds interleaved across systems (A B C, B C A, ...), so the noise of a shared machine falls on
 * every system alike; one unmeasured round each warms the JIT first, as pino's benchmark does.
 */
async function measureInterleaved(systems: readonly System[]): Promise<number[]> {
  for (const system of systems) await oneRound(system);
  const totals = systems.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < systems.length; k++) {
      const index = (round + k) % systems.length;
      totals[index] = (totals[index] ?? 0) + (await oneRound(systems[index] as System));
    }
  }
  return totals;
}

/**
 * Rounds interleaved across systems, each round settled (every line in its file) before the next
 * system's round starts, so no system's backlog is drained during another's measurement.
 */
async function measureSettled(
  systems: readonly System[],
): Promise<Array<{ callsMs: number; totalMs: number }>> {
  const results = systems.map(() => ({ callsMs: 0, totalMs: 0 }));
  const written = systems.map(() => 0);
  const settledRound = async (index: number) => {
    const system = systems[index] as System;
    const start = performance.now();
    const callsMs = await oneRound(system);
    written[index] = (written[index] ?? 0) + CALLS;
    await system.settle?.(written[index] ?? 0);
    return { callsMs, totalMs: performance.now() - start };
  };
  for (let i = 0; i < systems.length; i++) await settledRound(i);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < systems.length; k++) {
      const index = (round + k) % systems.length;
      const { callsMs, totalMs } = await settledRound(index);
      const result = results[index] as { callsMs: number; totalMs: number };
      result.callsMs += callsMs;
      result.totalMs += totalMs;
    }
  }
  return results;
}

function rawWinston(transport: TransportStream): winston.Logger {
  return winston.createLogger({
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}

/** @plat/logging measured inside a request context with a principal and an active span. */
function platScope(withSpan: boolean): (fn: () => Promise<void>) => Promise<void> {
  return (fn) =>
    runWithContext({ requestId: 'req-7f3a' }, () => {
      setPrincipal({ id: 'user_42', tenantId: 'acme' });
      if (!withSpan) return fn();
      const span = trace.getTracer('bench').startSpan('request');
      return context.with(trace.setSpan(context.active(), span), fn).finally(() => span.end());
    });
}

function platLogger(transport: TransportStream): Logger {
  return createLogger({ transports: [transport], logUncaught: false, fields: { service: 'bench' } });
}

const payload = { hello: 'world' };

/**
 * pino set up to write what @plat/logging writes: ISO time, request context and span ids through a
 * mixin, and redaction of the usual secret paths.
 */
function pinoLikePlat(destination: pino.DestinationStream): pino.Logger {
  return pino(
    {
      base: { service: 'bench' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['password', '*.password', 'token', '*.token', 'headers.authorization', 'headers.cookie'],
      mixin() {
        const ctx = currentContext();
        const ids = trace.getActiveSpan()?.spanContext();
        return {
          request_id: ctx?.requestId,
          principal_id: ctx?.principal?.id,
          tenant_id: ctx?.tenantId,
          trace_id: ids?.traceId,
          span_id: ids?.spanId,
          trace_flags: ids === undefined ? undefined : `0${ids.traceFlags.toString(16)}`,
        };
      },
    },
    destination,
  );
}

const OPS = ROUNDS * CALLS;

async function discardTable(title: string, systems: System[], note: string): Promise<void> {
  const totals = await measureInterleaved(systems);
  const rows: BenchRow[] = systems.map((system, i) => {
    const ms = totals[i] as number;
    return { system: system.name, metrics: { 'ops/s': OPS / (ms / 1000), 'µs/call': (ms * 1000) / OPS } };
  });
  printTable(title, rows, { ratioOf: 'ops/s', note });
}

async function fileTable(title: string, systems: System[], note: string): Promise<void> {
  const results = await measureSettled(systems);
  const rows: BenchRow[] = systems.map((system, i) => {
    const { callsMs, totalMs } = results[i] as { callsMs: number; totalMs: number };
    const file = system.file as string;
    const lines = readFileSync(file, 'utf8').split('\n').length - 1;
    return {
      system: system.name,
      metrics: {
        'ops/s': OPS / (callsMs / 1000),
        'ops/s incl. flush': OPS / (totalMs / 1000),
        'lines in file': lines,
        'bytes/line': statSync(file).size / Math.max(lines, 1),
      },
    };
  });
  printTable(title, rows, { ratioOf: 'ops/s incl. flush', note });
}

export default async function run(): Promise<void> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(new BasicTracerProvider());

  const winstonSink = new DiscardTransport();
  const platSink = new DiscardTransport();
  const platSpanSink = new DiscardTransport();
  const w = rawWinston(winstonSink);
  const plat = platLogger(platSink);
  const platSpan = platLogger(platSpanSink);
  const pinoDiscard = pino({ base: { service: 'bench' } }, { write: () => {} });
  const pinoMixin = pinoLikePlat({ write: () => {} });
  const pinoDevNull = pino(
    { base: { service: 'bench' } },
    pino.destination({ dest: '/dev/null', minLength: 4096, sync: false }),
  );

  await discardTable(
    `logging to a discarding sink: ${ROUNDS} x ${CALLS} calls of info('hello world', { hello: 'world' })`,
    [
      { name: 'raw winston (timestamp + json)', log: () => w.info('hello world', payload) },
      {
        name: '@plat/logging (context + redaction)',
        scope: platScope(false),
        log: () => plat.info('hello world', payload),
      },
      {
        name: '@plat/logging (context + span + redaction)',
        scope: platScope(true),
        log: () => platSpan.info('hello world', payload),
      },
      { name: 'pino', log: () => pinoDiscard.info(payload, 'hello world') },
      {
        name: 'pino + mixin (context + span) + redact',
        scope: platScope(true),
        log: () => pinoMixin.info(payload, 'hello world'),
      },
      { name: 'pino minLength 4096 (/dev/null)', log: () => pinoDevNull.info(payload, 'hello world') },
    ],
    'winston and @plat/logging write to a winston transport that drops the finished line; pino to an object whose write() drops it. ' +
      '@plat/logging lines also carry request_id, principal_id, tenant_id (and trace_id, span_id, trace_flags) and pass redaction.',
  );

  const dir = mkdtempSync(join(tmpdir(), 'plat-logging-bench-'));
  try {
    const files = {
      winston: join(dir, 'winston.log'),
      plat: join(dir, 'plat.log'),
      pino: join(dir, 'pino.log'),
      pinoMin: join(dir, 'pino-min.log'),
      winstonStream: join(dir, 'winston-stream.log'),
      pinoMixin: join(dir, 'pino-mixin.log'),
    };
    const wStream = rawWinston(
      new winston.transports.Stream({ stream: createWriteStream(files.winstonStream) }),
    );
    const pinoMixinDest = pino.destination({ dest: files.pinoMixin, minLength: 4096, sync: false });
    const pinoMixinFile = pinoLikePlat(pinoMixinDest);
    const winstonFile = new winston.transports.File({ filename: files.winston });
    const wFile = rawWinston(winstonFile);
    const platTransport = createBufferedTransport({ destination: files.plat });
    const platFile = platLogger(platTransport);
    const pinoDest = pino.destination({ dest: files.pino });
    const pinoFile = pino({ base: { service: 'bench' } }, pinoDest);
    const pinoMinDest = pino.destination({ dest: files.pinoMin, minLength: 4096, sync: false });
    const pinoMin = pino({ base: { service: 'bench' } }, pinoMinDest);
    const expected = (ROUNDS + 1) * CALLS;
    // sonic-boom opens files asynchronously; measure from a ready destination, as a service would.
    await Promise.all([pinoDest, pinoMinDest, pinoMixinDest].map((dest) => once(dest, 'ready')));
    /** Counts lines in a file incrementally, reading only what was appended since the last look. */
    const counters = new Map<string, { offset: number; lines: number }>();
    const linesIn = (file: string): number => {
      const counter = counters.get(file) ?? { offset: 0, lines: 0 };
      counters.set(file, counter);
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0; // not created yet
        throw error;
      }
      try {
        const size = fstatSync(fd).size;
        if (size > counter.offset) {
          const chunk = Buffer.alloc(size - counter.offset);
          readSync(fd, chunk, 0, chunk.length, counter.offset);
          for (const byte of chunk) if (byte === 10) counter.lines++;
          counter.offset = size;
        }
        return counter.lines;
      } finally {
        closeSync(fd);
      }
    };
    // Polls until every line is in the file (bounded, so a broken system cannot hang the run).
    const waitForLines = async (file: string, lines: number) => {
      const until = Date.now() + 5_000;
      while (linesIn(file) < lines && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    };
    /**
     * sonic-boom holds a tail shorter than minLength until asked, and its flush callback can come
     * before that tail is written; flushSync writes what is left once no write is in flight.
     */
    const flushBoom = async (dest: pino.DestinationStream & SonicBoomLike, file: string, lines: number) => {
      await new Promise<void>((resolve) => dest.flush(() => resolve()));
      for (let i = 0; i < 100 && linesIn(file) < lines; i++) {
        try {
          dest.flushSync();
        } catch {
          // A write is still in flight; try again in a moment.
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitForLines(file, lines);
    };

    await fileTable(
      `logging to a real file: ${ROUNDS} x ${CALLS} calls of info('hello world', { hello: 'world' })`,
      [
        {
          name: 'raw winston (File transport)',
          log: () => wFile.info('hello world', payload),
          settle: (lines) => waitForLines(files.winston, lines),
          file: files.winston,
        },
        {
          name: 'raw winston (Stream transport, fs.WriteStream)',
          log: () => wStream.info('hello world', payload),
          settle: (lines) => waitForLines(files.winstonStream, lines),
          file: files.winstonStream,
        },
        {
          name: '@plat/logging (buffered transport, context + span + redaction)',
          scope: platScope(true),
          log: () => platFile.info('hello world', payload),
          // Resolves once every line has been handed to the operating system.
          settle: () => platFile.flush(),
          file: files.plat,
        },
        {
          name: 'pino (sonic-boom, sync)',
          log: () => pinoFile.info(payload, 'hello world'),
          settle: async () => pinoDest.flushSync(),
          file: files.pino,
        },
        {
          name: 'pino minLength 4096 (async)',
          log: () => pinoMin.info(payload, 'hello world'),
          settle: (lines) => flushBoom(pinoMinDest, files.pinoMin, lines),
          file: files.pinoMin,
        },
        {
          name: 'pino minLength 4096 + mixin (context + span) + redact',
          scope: platScope(true),
          log: () => pinoMixinFile.info(payload, 'hello world'),
          settle: (lines) => flushBoom(pinoMixinDest, files.pinoMixin, lines),
          file: files.pinoMixin,
        },
      ],
      'ops/s counts the calls and one setImmediate per round (pino\'s shape); "incl. flush" also waits, after each round, until ' +
        'every line is in the file (flush() for @plat/logging and pino, polling the file for winston, whose transports have no flush). ' +
        `Rounds are interleaved across systems; each file should end with ${expected} lines (one warm-up round included).`,
    );
    await platFile.close();
    wFile.close();
    wStream.close();
    pinoMinDest.end();
    pinoMixinDest.end();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await plat.close();
    await platSpan.close();
  }
}
