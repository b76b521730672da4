/**
 * Starts `probe-server.ts` for one system in its own process (so the load generator and the server
 * do not share a CPU budget) and waits for the URL it reports over IPC.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const here = import.meta.dirname;

export interface ProbeServerProcess {
  child: ChildProcess;
  url: string;
}

/** `stderr: 'inherit'` shows the server's own errors; the hung-dependency bench keeps them quiet. */
export async function startProbeServer(
  system: string,
  mode: string,
  stderr: 'ignore' | 'inherit',
): Promise<ProbeServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'probe-server.ts'), system, mode], {
    cwd: join(here, '..'),
    env: process.env,
    stdio: ['ignore', 'ignore', stderr, 'ipc'],
  });
  let timer: NodeJS.Timeout | undefined;
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${system} server exited with ${code}`);
    }),
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${system} server did not start within 60 s`));
      }, 60_000);
    }),
  ]).finally(() => clearTimeout(timer))) as [{ url: string }];
  return { child, url: message.url };
}
