#!/usr/bin/env node
/**
 * Checks that the package in the current directory packs cleanly for npm:
 *   1. publint --strict (exports map, files, types),
 *   2. attw --pack (types resolve under node16 for both import and require, and in bundlers),
 *   3. every exported entry really loads with both `import` and `require` from the built files.
 * Run by `turbo run check:pack` after `build`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const cwd = process.cwd();
const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
const bin = (name) => join(import.meta.dirname, '..', 'node_modules', '.bin', name);

function run(label, command, args) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n✗ ${pkg.name}: ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

run('publint', bin('publint'), ['--strict']);
// node10 resolution has no `exports` support, so subpath entries cannot resolve there; our floor is
// Node 20, whose resolution (node16) and bundlers are what users get.
run('attw', bin('attw'), ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped']);

const entries = Object.keys(pkg.exports).filter((key) => key !== './package.json');
const specifiers = entries.map((entry) => (entry === '.' ? pkg.name : `${pkg.name}/${entry.slice(2)}`));
// Evaluated from the package directory, so the specifiers self-reference this package by name.
const keysOf = (load) =>
  `const out = {}; for (const s of ${JSON.stringify(specifiers)}) { const m = ${load}; ` +
  `out[s] = Object.keys(m).filter((k) => k !== 'default').sort(); } console.log(JSON.stringify(out));`;
function loadAll(label, args) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`\n✗ ${pkg.name}: entries do not load with ${label}\n${result.stderr}`);
    process.exit(1);
  }
  return JSON.parse(result.stdout);
}
const viaRequire = loadAll('require', ['-e', keysOf('require(s)')]);
const viaImport = loadAll('import', ['--input-type=module', '-e', keysOf('await import(s)')]);
const mismatched = specifiers.filter((s) => viaRequire[s].join() !== viaImport[s].join());
if (mismatched.length > 0) {
  console.error(`\n✗ ${pkg.name}: ESM and CJS exports differ for ${mismatched.join(', ')}`);
  process.exit(1);
}
console.log(`✓ ${pkg.name}: publint, attw, and ${specifiers.length} entries load with import and require`);
