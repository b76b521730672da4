import { definePackageConfig, standardEntries } from '../../tsup.base';

export default definePackageConfig({
  entry: [...standardEntries, 'src/kysely.ts', 'src/esm-hooks.ts'],
  // esm-hooks resolves OpenTelemetry's loader relative to itself, in the CommonJS build too.
  shims: true,
});
