import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './redis-server';
import { isCI } from './services';

const run = promisify(execFile);

/** A throwaway PostgreSQL server owned by one test file (its own data directory and port). */
export interface PostgresServerHandle {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Stops the server (fast shutdown) and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresServerOptions {
  /** Server settings passed as `-c name=value`, for example `{ shared_preload_libraries: 'pg_stat_statements' }`. */
  settings?: Readonly<Record<string, string>>;
}

/** The newest installed PostgreSQL server binaries (`/usr/lib/postgresql/<version>/bin`), if any. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((version) => existsSync(join(base, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user. */
function asServerUser(binary: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

/**
 * Starts a private PostgreSQL server on loopback (never the shared one), with trust authentication
 * and fsync off, for tests that need server settings the shared server does not have (a preloaded
 * library, say) or that must stop the server. Needs the server binaries (Debian's `postgresql`).
 *
 * @example
 * ```ts
 * const server = await startPostgresServer({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
 * afterAll(() => server.stop());
 * ```
 */
export async function startPostgresServer(
  options: StartPostgresServerOptions = {},
): Promise<PostgresServerHandle> {
  const bin = postgresBinDir();
  if (bin === undefined)
    throw new Error('PostgreSQL server binaries are not installed (/usr/lib/postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'plat-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const port = await freePort();
  const [initdb, initArgs] = asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  await run(initdb, initArgs);
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    full_page_writes: 'off',
    synchronous_commit: 'off',
    ...options.settings,
  };
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  const [pgCtl, startArgs] = asServerUser(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-o',
    serverOptions,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '30',
    'start',
  ]);
  await run(pgCtl, startArgs);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.end();
  let stopped = false;
  return {
    port,
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      const [ctl, stopArgs] = asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      await run(ctl, stopArgs).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `describe` when PostgreSQL server binaries are installed (a private server can be started);
 * otherwise a visible skip. With CI=true missing binaries throw, failing the test file.
 */
export function describeWithPostgresServer(name: string, body: () => void): void {
  if (postgresBinDir() !== undefined) {
    describe(name, body);
    return;
  }
  if (isCI())
    throw new Error(`CI=true but PostgreSQL server binaries are not installed; needed by "${name}"`);
  describe.skip(`${name} [skipped: install the postgresql server package to run]`, body);
}
