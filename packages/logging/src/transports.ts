/**
 * Winston transports of our own: a buffered, non-blocking one for files and stdout, and an
 * in-memory one for tests.
 */
import TransportStream from 'winston-transport';
import { BufferedDestination, type DestinationStats } from './buffered-destination';
import { createFailureReporter, printFailure } from './failure-report';
import { MESSAGE } from './shapes';
import type { BufferedTransportOptions } from './types';

/**
 * Marks transports whose `log` finishes synchronously and needs no stream backpressure; a logger
 * whose transports all carry it hands them lines directly instead of through winston's stream pipe.
 */
export const DIRECT_LOG = Symbol.for('@plat/logging.directLog');

type WinstonInfo = Record<string | symbol, unknown>;

function lineOf(info: WinstonInfo): string {
  const text = info[MESSAGE];
  return typeof text === 'string' ? text : JSON.stringify(info);
}

/** A winston transport writing through a buffered, non-blocking destination. */
export class BufferedTransport extends TransportStream {
  readonly [DIRECT_LOG] = true;
  readonly #destination: BufferedDestination;

  constructor(options: BufferedTransportOptions = {}) {
    super(options.level === undefined ? {} : { level: options.level });
    const {
      destination = 'stdout',
      minLength,
      flushIntervalMs = 50,
      maxBufferBytes = 64 * 1024 * 1024,
      onError = printFailure,
    } = options;
    this.#destination = new BufferedDestination({
      destination,
      minLength,
      flushIntervalMs,
      maxBufferBytes,
      report: createFailureReporter(onError),
    });
  }

  /** Called by winston for each line; hands the finished text to the buffer and returns at once. */
  override log(info: WinstonInfo, next: () => void): void {
    this.#destination.write(`${lineOf(info)}\n`);
    next();
  }

  /** Counters about the destination: dropped lines, failed bytes, buffered characters. */
  get stats(): DestinationStats {
    return this.#destination.stats;
  }

  /** Resolves once every line so far has been handed to the operating system. */
  flush(): Promise<void> {
    return this.#destination.flush();
  }

  /** Writes what is buffered synchronously (what the exit hook does). */
  flushSync(): void {
    this.#destination.flushSync();
  }

  /** Flushes and closes the destination (a file it opened is closed; stdout is left open). */
  override close(): Promise<void> {
    return this.#destination.close();
  }
}

/**
 * A buffered, non-blocking winston transport to stdout, stderr, a file descriptor or a file. Lines
 * are written in large chunks off the caller's path, flushed every `flushIntervalMs` when quiet,
 * and written synchronously when the process exits or crashes.
 *
 * @example
 * ```ts
 * const logger = createLogger({ transports: [createBufferedTransport({ destination: '/var/log/app.log' })] });
 * // or add it to a winston logger of your own:
 * winston.createLogger({ transports: [createBufferedTransport()] });
 * ```
 */
export function createBufferedTransport(options: BufferedTransportOptions = {}): BufferedTransport {
  return new BufferedTransport(options);
}

/** A winston transport that keeps lines in memory, for tests. */
export class MemoryTransport extends TransportStream {
  readonly [DIRECT_LOG] = true;
  /** Every line written, as text. */
  readonly lines: string[] = [];

  override log(info: WinstonInfo, next: () => void): void {
    this.lines.push(lineOf(info));
    next();
  }

  /** Every line parsed as JSON (for the json, gcp and ecs formats). */
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Forgets the lines written so far. */
  clear(): void {
    this.lines.length = 0;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An in-memory transport, to assert on log lines in tests.
 *
 * @example
 * ```ts
 * const memory = createMemoryTransport();
 * const logger = createLogger({ transports: [memory] });
 * logger.info('hello');
 * expect(memory.records()[0]).toMatchObject({ level: 'info', message: 'hello' });
 * ```
 */
export function createMemoryTransport(): MemoryTransport {
  return new MemoryTransport();
}
