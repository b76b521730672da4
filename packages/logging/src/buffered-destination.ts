/**
 * A buffered, non-blocking writer to a file descriptor. Lines are gathered in memory and written
 * in large chunks by the thread pool, one write at a time, so the caller never waits for the disk
 * or a pipe. What is still buffered when the process ends is written synchronously then.
 */
import { closeSync, existsSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isatty } from 'node:tty';
import { LoggingError } from './errors';
import { flushOnExit, forgetOnExit } from './exit-flush';
import type { ReportFailure } from './failure-report';
import type { Destination } from './types';

export interface BufferedDestinationOptions {
  destination: Destination;
  minLength: number | undefined;
  flushIntervalMs: number;
  maxBufferBytes: number;
  report: ReportFailure;
}

/** How long a synchronous flush keeps retrying a pipe that is full before giving up. */
const SYNC_RETRY_LIMIT_MS = 5000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Creates the missing folders of `dir` one by one. `mkdirSync(dir, { recursive: true })` never
 * returns for some paths (under /proc, on Node 20), which would hang the service at start-up.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  while (!existsSync(current)) {
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing.reverse()) mkdirSync(folder);
}

function isRetryable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/** Counters a transport exposes about its destination. */
export interface DestinationStats {
  /** Lines dropped because the buffer was full or the destination closed. */
  droppedLines: number;
  /** Bytes lost to failed writes. */
  failedBytes: number;
  /** Characters waiting to be written. */
  bufferedChars: number;
}

export class BufferedDestination {
  readonly fd: number;
  readonly name: string;
  readonly #ownsFd: boolean;
  readonly #minLength: number;
  readonly #flushIntervalMs: number;
  readonly #maxBuffer: number;
  readonly #report: ReportFailure;
  #pending = '';
  #inflight: Buffer | undefined;
  #inflightOffset = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Set while an in-flight chunk waits to be retried (a full pipe), i.e. is not with the thread pool. */
  #retry: NodeJS.Timeout | undefined;
  #flushRequested = false;
  #idleWaiters: Array<() => void> = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #droppedLines = 0;
  #failedBytes = 0;

  constructor(options: BufferedDestinationOptions) {
    const { destination } = options;
    if (destination === 'stdout' || destination === 'stderr') {
      this.fd = destination === 'stdout' ? 1 : 2;
      this.name = destination;
      this.#ownsFd = false;
    } else if (typeof destination === 'number') {
      if (!Number.isInteger(destination) || destination < 0)
        throw new LoggingError('INVALID_OPTIONS', `destination: ${destination} is not a file descriptor`);
      this.fd = destination;
      this.name = `fd ${destination}`;
      this.#ownsFd = false;
    } else if (typeof destination === 'string' && destination.length > 0) {
      try {
        makeFolders(dirname(destination));
        this.fd = openSync(destination, 'a');
      } catch (cause) {
        throw new LoggingError('INVALID_OPTIONS', `destination: cannot open ${destination} for appending`, {
          cause,
        });
      }
      this.name = destination;
      this.#ownsFd = true;
    } else {
      throw new LoggingError(
        'INVALID_OPTIONS',
        'destination must be stdout, stderr, a file descriptor or a path',
      );
    }
    this.#minLength = options.minLength ?? (isatty(this.fd) ? 0 : 4096);
    this.#flushIntervalMs = options.flushIntervalMs;
    this.#maxBuffer = options.maxBufferBytes;
    this.#report = options.report;
    flushOnExit(this);
  }

  get stats(): DestinationStats {
    return {
      droppedLines: this.#droppedLines,
      failedBytes: this.#failedBytes,
      bufferedChars: this.#pending.length,
    };
  }

  /** Queues text (whole lines); never blocks and never throws. */
  write(text: string): void {
    if (this.#closed) {
      this.#droppedLines++;
      this.#report(this, new LoggingError('LOGGER_CLOSED', `${this.name}: a line was logged after close()`));
      return;
    }
    if (this.#pending.length + text.length > this.#maxBuffer) {
      this.#droppedLines++;
      this.#report(
        this,
        new LoggingError(
          'BUFFER_FULL',
          `${this.name} is slower than the service: ${this.#maxBuffer} bytes are buffered, so new lines are dropped (see stats.droppedLines)`,
        ),
      );
      return;
    }
    this.#pending += text;
    if (this.#inflight !== undefined) return;
    if (this.#pending.length >= this.#minLength) this.#startWrite();
    else this.#schedule();
  }

  /** Resolves once everything written so far has been handed to the operating system. */
  flush(): Promise<void> {
    if (this.#inflight === undefined && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#flushRequested = true;
      if (this.#inflight === undefined) this.#startWrite();
    });
  }

  /**
   * Writes what is buffered now, synchronously (on exit). A write already in flight is left to the
   * thread pool, which Node completes before the process ends.
   */
  flushSync(): void {
    let rest: Buffer | undefined;
    if (this.#retry !== undefined && this.#inflight !== undefined) {
      // A chunk waiting for a full pipe to drain is ours to write, before what is buffered.
      clearTimeout(this.#retry);
      this.#retry = undefined;
      rest = this.#inflight.subarray(this.#inflightOffset);
      this.#inflight = undefined;
    }
    if (this.#pending.length === 0 && rest === undefined) return;
    const text = Buffer.from(this.#pending, 'utf8');
    const chunk = rest === undefined ? text : Buffer.concat([rest, text]);
    this.#pending = '';
    let offset = 0;
    const deadline = Date.now() + SYNC_RETRY_LIMIT_MS;
    while (offset < chunk.length) {
      try {
        offset += writeSync(this.fd, chunk, offset, chunk.length - offset);
      } catch (error) {
        if (isRetryable(error) && Date.now() < deadline) {
          sleepSync(5);
          continue;
        }
        this.#failed(error, chunk.length - offset);
        break;
      }
    }
    // Anyone awaiting flush() is answered when nothing is left with the thread pool.
    if (this.#inflight === undefined) this.#next();
  }

  /**
   * Flushes, stops accepting lines, and closes a file this destination opened. Calling it again
   * (winston also closes transports it unpipes) returns the same promise: a descriptor is closed once,
   * never a number the process has since given to another file.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    forgetOnExit(this);
    if (this.#ownsFd) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed: nothing was lost, since everything was flushed first.
      }
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#pending.length === 0) return;
    this.#timer = setTimeout(this.#onTimer, this.#flushIntervalMs);
    this.#timer.unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#inflight === undefined && this.#pending.length > 0) this.#startWrite();
  };

  #startWrite(): void {
    const chunk = Buffer.from(this.#pending, 'utf8');
    this.#pending = '';
    this.#inflight = chunk;
    this.#inflightOffset = 0;
    this.#writeInflight();
  }

  #writeInflight(): void {
    const chunk = this.#inflight as Buffer;
    const offset = this.#inflightOffset;
    write(this.fd, chunk, offset, chunk.length - offset, null, this.#onWritten);
  }

  readonly #onWritten = (error: NodeJS.ErrnoException | null, written: number): void => {
    const chunk = this.#inflight as Buffer;
    if (error !== null) {
      if (isRetryable(error)) {
        // A full non-blocking pipe: try again shortly, keeping order.
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.#writeInflight();
        }, 10);
        this.#retry.unref();
        return;
      }
      this.#failed(error, chunk.length - this.#inflightOffset);
    } else {
      this.#inflightOffset += written;
      if (this.#inflightOffset < chunk.length) {
        this.#writeInflight();
        return;
      }
    }
    this.#inflight = undefined;
    this.#next();
  };

  #next(): void {
    if (this.#pending.length > 0 && (this.#flushRequested || this.#pending.length >= this.#minLength)) {
      this.#startWrite();
      return;
    }
    if (this.#pending.length > 0) {
      this.#schedule();
      return;
    }
    this.#flushRequested = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #failed(error: unknown, bytes: number): void {
    this.#failedBytes += bytes;
    this.#report(
      this,
      new LoggingError('WRITE_FAILED', `cannot write to ${this.name}; ${bytes} bytes were lost`, {
        cause: error,
      }),
    );
  }
}
