import { isPlatError } from '@plat/core';
import { analyzeCode } from '../src/code-safety';
import { closeSandbox, runSandboxed } from '../src/sandbox';

afterAll(() => closeSandbox());

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; elapsed: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    if (!isPlatError(error)) throw error;
    return { code: error.code, message: error.message, elapsed: Date.now() - started };
  }
  throw new Error('expected the sandbox to refuse');
}

describe('runSandboxed', () => {
  it('runs code with its input and returns JSON', async () => {
    const { value } = await runSandboxed<number>('return input.a + input.b.length;', { a: 1, b: [1, 2] });
    expect(value).toBe(3);
  });

  it('gives the code no host access', async () => {
    const { value } = await runSandboxed<string>(
      'return [typeof process, typeof require, typeof globalThis.fetch, typeof setTimeout].join();',
      null,
    );
    expect(value).toBe('undefined,undefined,undefined,undefined');
  });

  it('kills an infinite loop at the deadline', async () => {
    const result = await failure(runSandboxed('while (true) {}', null, { timeoutMs: 200 }));
    expect(result.code).toBe('SANDBOX_TIMEOUT');
    expect(result.elapsed).toBeLessThan(5_000);
  });

  it('kills a memory bomb at the heap limit', async () => {
    const result = await failure(
      runSandboxed('const a = []; for (;;) a.push({ a: 1, b: [1, 2, 3] });', null, {
        memoryBytes: 16 * 1024 * 1024,
        timeoutMs: 10_000,
      }),
    );
    expect(result.code).toBe('SANDBOX_MEMORY_LIMIT');
  });

  it('stops a bomb that thrashes the collector with the watchdog', async () => {
    const result = await failure(
      runSandboxed("const a = []; for (;;) a.push('x'.repeat(1 << 20) + a.length);", null, {
        memoryBytes: 16 * 1024 * 1024,
        timeoutMs: 300,
      }),
    );
    expect(['SANDBOX_TIMEOUT', 'SANDBOX_MEMORY_LIMIT']).toContain(result.code);
    expect(result.elapsed).toBeLessThan(5_000);
  });

  it('stops runaway recursion', async () => {
    const result = await failure(runSandboxed('function f() { return f(); } return f();', null));
    expect(result.code).toBe('SANDBOX_MEMORY_LIMIT');
    // The sandbox still works afterwards.
    expect((await runSandboxed('return 40 + 2;', null)).value).toBe(42);
  });

  it('reports errors thrown by the code and non-JSON results', async () => {
    expect((await failure(runSandboxed('throw new Error("boom");', null))).message).toContain('Error: boom');
    expect((await failure(runSandboxed('return () => 1;', null))).code).toBe('SANDBOX_ERROR');
  });

  it('queues concurrent runs and isolates a runaway one', async () => {
    const runs = await Promise.allSettled([
      runSandboxed('return 1;', null),
      runSandboxed('while (true) {}', null, { timeoutMs: 100 }),
      runSandboxed('return 3;', null),
    ]);
    expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((runs[2] as PromiseFulfilledResult<{ value: number }>).value.value).toBe(3);
  });
});

describe('analyzeCode', () => {
  it.each([
    ['return input.items.map((x) => x * 2);', []],
    ["return this.constructor.constructor('return process')();", ['code.constructor-access']],
    ['while (true) {}', ['code.infinite-loop']],
    ['for (;;) { if (input.done) break; }', []],
    ['while (1) { for (;;) { break; } }', ['code.infinite-loop']],
    ['const fs = require("fs");', ['code.forbidden-global']],
    ['import("fs");', ['code.import']],
    ['eval("1")', ['code.forbidden-global']],
    ['new Function("return process")()', ['code.forbidden-global']],
    ['globalThis.process', ['code.forbidden-global']],
    ["x['__proto__'].polluted = 1;", ['code.forbidden-property']],
    ['Object.prototype.polluted = 1;', ['code.prototype-access']],
    ['Object.setPrototypeOf(a, b);', ['code.prototype-pollution']],
    ["a['con' + 'structor']", ['code.dynamic-property']],
    ['const o = { __proto__: evil };', ['code.forbidden-property']],
    ['const o = { process: 1 }; return o.process;', []],
  ])('%s', (code, rules) => {
    expect([...new Set(analyzeCode(code).findings.map((f) => f.rule))]).toEqual(rules);
  });

  it('reports syntax errors with a position', () => {
    const result = analyzeCode('return (');
    expect(result.ok).toBe(false);
    expect(result.findings[0]).toMatchObject({ rule: 'code.syntax-error', line: 1 });
  });
});

describe('assertSafeCode', () => {
  it('throws UNSAFE_CODE with rules and positions, not the code', async () => {
    const { assertSafeCode } = await import('../src');
    expect(() => assertSafeCode('return input;')).not.toThrow();
    try {
      assertSafeCode('\nconst x = process.env;');
      throw new Error('expected a refusal');
    } catch (error) {
      expect(isPlatError(error, 'UNSAFE_CODE')).toBe(true);
      expect((error as { details: unknown }).details).toEqual({
        findings: [{ rule: 'code.forbidden-global', line: 2, column: 10 }],
      });
    }
  });
});
