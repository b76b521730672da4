import { spawn } from 'node:child_process';
import { join } from 'node:path';

const packageDir = join(__dirname, '..', '..');
const repoRoot = join(packageDir, '..', '..');

/**
 * Runs `test/fixtures/<name>.ts` in a plain Node process (through tsx), the way an app runs:
 * OpenTelemetry's module patching and its exporter's dynamic imports do not work inside jest's
 * module system. Resolves with the JSON the fixture prints on its last stdout line.
 */
export function runFixture<T>(
  name: string,
  env: Record<string, string>,
  { esmHooks = false, timeoutMs = 20_000 }: { esmHooks?: boolean; timeoutMs?: number } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const hooks = esmHooks ? ['--import', join(packageDir, 'src', 'esm-hooks.ts')] : [];
    const script = join(packageDir, 'test', 'fixtures', `${name}.ts`);
    const child = spawn(process.execPath, ['--import', 'tsx', ...hooks, script], {
      cwd: repoRoot,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(packageDir, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture ${name} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`fixture ${name} exited with ${code}\n${stderr}`));
        return;
      }
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`fixture ${name} printed no JSON result\n${stdout}\n${stderr}`));
      }
    });
  });
}
