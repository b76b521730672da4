/**
 * Runs the benchmarks: every `<package>/*.bench.ts` under bench/, or those whose path contains one
 * of the words given (`pnpm bench cache-deps`). Each file's default export prints its own tables.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = import.meta.dirname;
const filters = process.argv.slice(2).filter((arg) => arg !== '--');

function findBenchFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === 'harness' || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findBenchFiles(path);
    return name.endsWith('.bench.ts') ? [path] : [];
  });
}

const files = findBenchFiles(here)
  .map((path) => relative(here, path))
  .filter((path) => filters.length === 0 || filters.some((word) => path.includes(word)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`);
  process.exit(1);
}

console.log(
  `node ${process.version}, ${process.platform}/${process.arch}; ${files.length} benchmark file(s)`,
);
for (const file of files) {
  console.log(`\n## ${file}`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
  await mod.default();
}
