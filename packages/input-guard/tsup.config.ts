import { definePackageConfig, standardEntries } from '../../tsup.base';

export default definePackageConfig({
  entry: [...standardEntries, 'src/cli.ts'],
  // `__filename` in the ESM build (the sandbox resolves quickjs-emscripten for its worker).
  shims: true,
  // file-type and its tokenizers are ESM-only: bundle them so the CommonJS build loads too.
  noExternal: [
    /^file-type/,
    /^strtok3/,
    /^token-types/,
    /^@tokenizer\//,
    /^uint8array-extras/,
    /^@borewit\//,
  ],
});
