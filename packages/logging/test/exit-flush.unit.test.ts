/**
 * Real child processes: every line logged before an exit, a crash or a signal reaches the file or
 * stdout, although the transport was holding it in memory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const child = join(__dirname, 'fixtures', 'exit-child.ts');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(
  env: Record<string, string>,
  onStderr?: (text: string, kill: () => void) => void,
  readDelayMs = 0,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // tsx as a loader rather than its CLI, so the child is the process itself (signals reach it).
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    if (readDelayMs > 0) {
      // A reader that falls behind: the pipe fills up and the child's writes have to wait.
      proc.stdout.pause();
      setTimeout(() => proc.stdout.resume(), readDelayMs);
    }
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, () => proc.kill('SIGTERM'));
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child did not end: ${stderr}`));
    }, 60_000);
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function records(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every numbered line exactly once. */
function expectAllLines(lines: Array<Record<string, unknown>>, count: number): void {
  const numbers = lines.filter((r) => r.message === 'line').map((r) => r.i as number);
  expect(numbers).toHaveLength(count);
  expect(new Set(numbers).size).toBe(count);
  expect(Math.max(...numbers)).toBe(count - 1);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'plat-logging-exit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flushing on exit and crash (real child processes)', () => {
  it('writes every buffered line on process.exit()', async () => {
    const file = join(dir, 'exit.log');
    const outcome = await run({ SCENARIO: 'exit', DESTINATION: file, LINES: '3000' });
    expect(outcome.code).toBe(3);
    expectAllLines(records(readFileSync(file, 'utf8')), 3000);
  });

  it('writes every line and a fatal line with the error on an uncaught exception', async () => {
    const file = join(dir, 'throw.log');
    const outcome = await run({ SCENARIO: 'throw', DESTINATION: file, LINES: '2000' });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('kaboom');
    const lines = records(readFileSync(file, 'utf8'));
    expectAllLines(lines, 2000);
    expect(lines.at(-1)).toMatchObject({
      level: 'fatal',
      message: 'uncaught exception',
      error: { name: 'Error', message: 'kaboom', stack: expect.stringContaining('kaboom') },
    });
  });

  it('logs an unhandled rejection as fatal before the process ends', async () => {
    const file = join(dir, 'reject.log');
    const outcome = await run({ SCENARIO: 'reject', DESTINATION: file, LINES: '10' });
    expect(outcome.code).toBe(1);
    const lines = records(readFileSync(file, 'utf8'));
    expectAllLines(lines, 10);
    expect(lines.at(-1)).toMatchObject({
      level: 'fatal',
      message: 'unhandled rejection',
      error: { message: 'nobody caught me' },
    });
  });

  it('flushes on SIGTERM when nobody handles it, then ends by that signal as it would have', async () => {
    const file = join(dir, 'signal.log');
    const outcome = await run({ SCENARIO: 'signal', DESTINATION: file, LINES: '500' }, (text, kill) => {
      if (text.includes('ready')) kill();
    });
    expect(outcome.signal).toBe('SIGTERM');
    expectAllLines(records(readFileSync(file, 'utf8')), 500);
  });

  it('writes everything to a pipe whose reader falls behind, on process.exit()', async () => {
    const outcome = await run({ SCENARIO: 'exit', DESTINATION: 'stdout', LINES: '4000' }, undefined, 500);
    expect(outcome.code).toBe(3);
    expectAllLines(records(outcome.stdout), 4000);
  });

  it('works without @opentelemetry/api installed', async () => {
    const outcome = await run({ SCENARIO: 'natural', DESTINATION: 'stdout', LINES: '5', HIDE_OTEL: '1' });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    const lines = records(outcome.stdout);
    expectAllLines(lines, 5);
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it('flushes lines held for stdout when the process ends by itself', async () => {
    const outcome = await run({ SCENARIO: 'natural', DESTINATION: 'stdout', LINES: '50' });
    expect(outcome.code).toBe(0);
    const lines = records(outcome.stdout);
    expectAllLines(lines, 50);
    expect(lines[0]).toMatchObject({ level: 'info', message: 'line', i: 0, pid: expect.any(Number) });
  });
});
