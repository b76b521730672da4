/**
 * Runs untrusted code in QuickJS compiled to WebAssembly (`quickjs-emscripten`): a separate
 * JavaScript engine with its own heap and no access to Node's globals, modules, file system or
 * network. Limits are enforced twice:
 * - inside QuickJS: a heap limit, a stack limit and an interrupt handler at the deadline;
 * - outside it: the engine lives in a worker thread, and a watchdog terminates that thread when
 *   the deadline has passed. QuickJS only polls its interrupt handler between bytecodes, and a
 *   program thrashing its garbage collector near the heap limit can take seconds between polls;
 *   terminating the thread is the hard stop.
 * Node's `vm` module is not a security boundary and is never used here.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { InputGuardError } from './errors';
import type { SandboxOptions, SandboxResult } from './types';

/** Extra time the watchdog grants beyond `timeoutMs` for the in-engine interrupt to win. */
const WATCHDOG_GRACE_MS = 50;

/**
 * The worker, as plain CommonJS so it runs from the ESM build, the CJS build and the sources
 * alike. It loads quickjs-emscripten from the path the main thread resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { getQuickJS, shouldInterruptAfterDeadline } = require(workerData.quickjs);
let modulePromise;
parentPort.on('message', async (job) => {
  modulePromise ??= getQuickJS();
  const quickjs = await modulePromise;
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(job.memoryBytes);
  runtime.setMaxStackSize(job.stackBytes);
  const deadline = Date.now() + job.timeoutMs;
  const expired = shouldInterruptAfterDeadline(deadline);
  let interrupted = false;
  runtime.setInterruptHandler((rt) => (expired(rt) ? (interrupted = true) : false));
  const context = runtime.newContext();
  let reply;
  let poisoned = false;
  try {
    const result = context.evalCode(job.source, 'workflow-code.js');
    if (result.error) {
      const error = context.dump(result.error);
      result.error.dispose();
      const name = error && typeof error.name === 'string' ? error.name : 'Error';
      const message = error && typeof error.message === 'string' ? error.message : String(error);
      if (interrupted || message === 'interrupted') reply = { id: job.id, status: 'timeout' };
      else if (error === null || message === 'out of memory' || message === 'stack overflow') reply = { id: job.id, status: 'memory' };
      else reply = { id: job.id, status: 'error', message: (name + ': ' + message).slice(0, 300) };
    } else {
      const json = context.dump(result.value);
      result.value.dispose();
      reply = { id: job.id, status: 'ok', json: typeof json === 'string' ? json : undefined, notJson: json !== undefined && typeof json !== 'string' };
    }
  } catch (error) {
    // A host-level failure (the WebAssembly stack ran out): this engine instance is not trustworthy.
    poisoned = true;
    reply = { id: job.id, status: 'memory' };
  }
  if (!poisoned) {
    try { context.dispose(); runtime.dispose(); } catch { poisoned = true; }
  }
  parentPort.postMessage({ ...reply, poisoned });
});
`;

interface Job {
  id: number;
  source: string;
  timeoutMs: number;
  memoryBytes: number;
  stackBytes: number;
}

interface Reply {
  id: number;
  status: 'ok' | 'timeout' | 'memory' | 'error';
  json?: string;
  notJson?: boolean;
  message?: string;
  poisoned: boolean;
}

interface Pending {
  job: Job;
  resolve: (reply: Reply) => void;
  reject: (error: unknown) => void;
}

/** One worker, one job at a time (QuickJS is synchronous); a watchdog per job. */
class SandboxHost {
  private worker: Worker | undefined;
  private readonly queue: Pending[] = [];
  private current: (Pending & { timer: NodeJS.Timeout }) | undefined;
  private nextId = 1;

  run(source: string, limits: Omit<Job, 'id' | 'source'>): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, source, ...limits }, resolve, reject });
      this.pump();
    });
  }

  close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    return worker === undefined ? Promise.resolve() : worker.terminate().then(() => undefined);
  }

  private spawn(): Worker {
    const require = moduleRequire();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { quickjs: require.resolve('quickjs-emscripten') },
      // The WebAssembly heap is outside V8's; this only caps the worker's own JavaScript.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
    });
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, new Error('sandbox worker exited')));
    return worker;
  }

  private pump(): void {
    if (this.current !== undefined) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.worker ??= this.spawn();
    const worker = this.worker;
    const timer = setTimeout(() => {
      // The engine did not stop itself: stop the thread.
      if (this.current?.job.id !== next.job.id) return;
      this.current = undefined;
      this.worker = undefined;
      void worker.terminate();
      next.resolve({ id: next.job.id, status: 'timeout', poisoned: true });
      this.pump();
    }, next.job.timeoutMs + WATCHDOG_GRACE_MS);
    timer.unref();
    this.current = { ...next, timer };
    worker.postMessage(next.job);
  }

  private settle(reply: Reply): void {
    const current = this.current;
    if (current === undefined || current.job.id !== reply.id) return;
    clearTimeout(current.timer);
    this.current = undefined;
    if (reply.poisoned && this.worker !== undefined) {
      void this.worker.terminate();
      this.worker = undefined;
    }
    current.resolve(reply);
    this.pump();
  }

  private fail(worker: Worker, error: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const current = this.current;
    this.current = undefined;
    if (current !== undefined) {
      clearTimeout(current.timer);
      current.reject(
        new InputGuardError('SANDBOX_ERROR', 'The sandbox stopped unexpectedly', { cause: error }),
      );
    }
    this.pump();
  }
}

let host: SandboxHost | undefined;

/**
 * A `require` relative to this module, to find quickjs-emscripten for the worker. CommonJS (the CJS
 * build, jest) has `__filename`; ES modules run from the sources (tsx) have only `import.meta.url`.
 */
function moduleRequire(): NodeJS.Require {
  return typeof __filename === 'string' ? createRequire(__filename) : createRequire(import.meta.url);
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InputGuardError('INVALID_OPTIONS', `${option} must be a positive number`, {
      details: { option },
    });
  }
  return Math.floor(value);
}

/**
 * Runs `code` as the body of `function (input) { … }` in a fresh QuickJS runtime and returns what
 * it returns (passed in and out as JSON). Throws `SANDBOX_TIMEOUT`, `SANDBOX_MEMORY_LIMIT` or
 * `SANDBOX_ERROR` (the code threw, or returned something that is not JSON).
 *
 * @example
 * ```ts
 * const { value } = await runSandboxed('return input.a + input.b;', { a: 1, b: 2 }, { timeoutMs: 100 });
 * // value === 3
 * ```
 */
export async function runSandboxed<T = unknown>(
  code: string,
  input: unknown,
  options: SandboxOptions = {},
): Promise<SandboxResult<T>> {
  const timeoutMs = positiveInteger(options.timeoutMs ?? 1000, 'timeoutMs');
  const memoryBytes = positiveInteger(options.memoryBytes ?? 32 * 1024 * 1024, 'memoryBytes');
  // Above ~300 KiB the WebAssembly host stack can overflow before QuickJS notices.
  const stackBytes = Math.min(positiveInteger(options.stackBytes ?? 256 * 1024, 'stackBytes'), 256 * 1024);
  if (typeof code !== 'string')
    throw new InputGuardError('INVALID_OPTIONS', 'code must be a string', { details: { option: 'code' } });
  let inputJson: string;
  try {
    inputJson = JSON.stringify(input ?? null);
  } catch (cause) {
    throw new InputGuardError('SANDBOX_ERROR', 'Sandbox input is not JSON-serialisable', { cause });
  }
  // The code is a function body; the input crosses as a JSON string literal, the output as JSON.
  const source =
    `"use strict";\n(function (result) {\n` +
    `  if (result === undefined) return undefined;\n` +
    `  const json = JSON.stringify(result);\n` +
    `  if (json === undefined) throw new TypeError('the result is not JSON-serialisable');\n` +
    `  return json;\n` +
    `})((function (input) {\n${code}\n})(JSON.parse(${JSON.stringify(inputJson)})));`;
  host ??= new SandboxHost();
  const started = performance.now();
  const reply = await host.run(source, { timeoutMs, memoryBytes, stackBytes });
  const durationMs = performance.now() - started;
  switch (reply.status) {
    case 'timeout':
      throw new InputGuardError('SANDBOX_TIMEOUT', `Code ran longer than ${timeoutMs} ms and was stopped`, {
        details: { timeoutMs },
      });
    case 'memory':
      throw new InputGuardError(
        'SANDBOX_MEMORY_LIMIT',
        'Code exceeded its memory or stack limit and was stopped',
        {
          details: { memoryBytes },
        },
      );
    case 'error':
      throw new InputGuardError('SANDBOX_ERROR', `Code threw ${reply.message ?? 'an error'}`);
    default:
      if (reply.notJson) throw new InputGuardError('SANDBOX_ERROR', 'Code returned a value that is not JSON');
      return { value: (reply.json === undefined ? undefined : JSON.parse(reply.json)) as T, durationMs };
  }
}

/**
 * Stops the sandbox's worker thread (it is unref'd and never keeps a process alive; call this in
 * tests or on shutdown to release it at once). The next `runSandboxed` starts a new one.
 *
 * @example
 * ```ts
 * afterAll(() => closeSandbox());
 * ```
 */
export function closeSandbox(): Promise<void> {
  const current = host;
  host = undefined;
  return current === undefined ? Promise.resolve() : current.close();
}
