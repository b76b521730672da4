import { definePackageConfig, standardEntries } from '../../tsup.base';

const entry = [...standardEntries, 'src/cli.ts'];

export default [
  // `__filename` in the ESM build (the sandbox resolves quickjs-emscripten for its worker).
  definePackageConfig({ entry, format: ['esm'], shims: true, clean: false }),
  // file-type and its tokenizers are ESM-only: the CommonJS build bundles them.
  definePackageConfig({
    entry,
    format: ['cjs'],
    shims: true,
    clean: false,
    noExternal: [
      /^file-type/,
      /^strtok3/,
      /^token-types/,
      /^@tokenizer\//,
      /^uint8array-extras/,
      /^@borewit\//,
    ],
  }),
];
