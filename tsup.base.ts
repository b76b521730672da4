import { defineConfig, type Options } from 'tsup';

/** The entries every @plat package publishes: the framework-agnostic core and its three adapters. */
export const standardEntries = ['src/index.ts', 'src/express.ts', 'src/fastify.ts', 'src/koa.ts'];

/**
 * One build shape for every package: ESM (`.js`) and CJS (`.cjs`) with matching `.d.ts` / `.d.cts`,
 * so both `import` and `require` resolve typed entries under node16/bundler resolution.
 */
export function definePackageConfig(overrides: Options = {}) {
  return defineConfig({
    entry: standardEntries,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: true,
    ...overrides,
  });
}
