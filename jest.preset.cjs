// Shared jest settings: every package's jest.config.cjs calls this, and the root config lists the
// packages as projects, so `pnpm test` runs everything in one jest process with one summary.
const path = require('node:path');

const root = __dirname;

/** @param {string} packageDir absolute directory of the package @param {import('jest').Config} [extra] */
module.exports = function platJestConfig(packageDir, extra = {}) {
  const pkg = require(path.join(packageDir, 'package.json'));
  return {
    displayName: pkg.name,
    rootDir: packageDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.(t|j|mj|cj)sx?$': [
        '@swc/jest',
        {
          jsc: {
            target: 'es2022',
            parser: { syntax: 'typescript', decorators: true },
            transform: { decoratorVersion: '2022-03' },
          },
          sourceMaps: 'inline',
        },
      ],
    },
    // Tests run against the TypeScript sources of every @plat package, so no build is needed first.
    moduleNameMapper: {
      '^@plat/([a-z-]+)$': `${root}/packages/$1/src/index.ts`,
      '^@plat/([a-z-]+)/([a-z-]+)$': `${root}/packages/$1/src/$2.ts`,
    },
    // Reports which service suites were skipped and why; fails a CI run with a service missing.
    globalSetup: `${root}/packages/testkit/src/global-setup.cjs`,
    testTimeout: 30_000,
    ...extra,
  };
};
