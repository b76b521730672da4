/**
 * Where the accuracy corpus lives: `PLAT_GUARD_CORPUS` (a directory holding sqli.txt, xss.txt,
 * command.txt, path.txt and benign.txt), else `shared/corpora/input-guard/dev` beside the
 * repository (or beside the folder of worktrees).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Kind } from './baselines';

export const KINDS: readonly Kind[] = ['sqli', 'xss', 'command', 'path'];

export function corpusDir(): string | undefined {
  const fromEnv = process.env.PLAT_GUARD_CORPUS;
  if (fromEnv) return existsSync(join(fromEnv, 'benign.txt')) ? resolve(fromEnv) : undefined;
  const repo = resolve(import.meta.dirname, '..', '..');
  for (const candidate of [
    join(repo, '..', 'shared', 'corpora', 'input-guard', 'dev'),
    join(repo, '..', '..', 'shared', 'corpora', 'input-guard', 'dev'),
  ]) {
    if (existsSync(join(candidate, 'benign.txt'))) return candidate;
  }
  return undefined;
}

/** One value per line; empty lines are not values. */
export function readLines(dir: string, file: string): string[] {
  const path = join(dir, file);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.length > 0);
}
