import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * How tests find real services: a URL in an environment variable. Unset means "skip, visibly";
 * with CI=true, unset or unreachable is a failure (see global-setup.cjs).
 */

export interface ServiceSpec {
  /** Environment variable holding the URL. */
  env: string;
  /** Human name used in skip messages. */
  label: string;
  /** A URL that works on a developer machine with the service on loopback. */
  example: string;
}

export const POSTGRES: ServiceSpec = {
  env: 'PLAT_TEST_PG_URL',
  label: 'PostgreSQL',
  example: 'postgres://postgres@127.0.0.1:5432/test',
};

export const REDIS: ServiceSpec = {
  env: 'PLAT_TEST_REDIS_URL',
  label: 'Redis',
  example: 'redis://127.0.0.1:6379',
};

export function serviceUrl(service: ServiceSpec): string | undefined {
  const value = process.env[service.env];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function isCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/**
 * `describe` when every service is configured; otherwise a skipped `describe` whose title says which
 * variable to set. With CI=true a missing service throws, failing the test file.
 */
export function describeWithServices(services: readonly ServiceSpec[], name: string, body: () => void): void {
  const missing = services.filter((service) => serviceUrl(service) === undefined);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const how = missing.map((s) => `${s.env}=${s.example}`).join(' ');
  if (isCI()) {
    throw new Error(`CI=true but ${missing.map((s) => s.env).join(', ')} is not set; needed by "${name}"`);
  }
  describe.skip(`${name} [skipped: set ${how}]`, body);
}

/** A short unique name for this test file's schema or key prefix. */
export function isolationName(kind: string): string {
  const testPath = expect.getState().testPath ?? 'unknown';
  const file = (testPath.split(/[\\/]/).pop() ?? 'test')
    .replace(/\.test\.[cm]?[jt]s$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `${kind}_${file}_${unique}`;
}

/** True when `command` is an executable on PATH. */
export function hasCommand(command: string): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * `describe` when a server binary (for example `redis-server`) is installed; otherwise a visible
 * skip. With CI=true a missing binary throws, failing the test file.
 */
export function describeWithCommand(command: string, name: string, body: () => void): void {
  if (hasCommand(command)) {
    describe(name, body);
    return;
  }
  if (isCI()) throw new Error(`CI=true but \`${command}\` is not installed; needed by "${name}"`);
  describe.skip(`${name} [skipped: install ${command} to run]`, body);
}
