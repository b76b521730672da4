import { definePackageConfig } from '../../tsup.base';

// p-limit 7 and yocto-queue are ESM-only: bundle them so the CommonJS build can require this package.
export default definePackageConfig({ noExternal: ['p-limit', 'yocto-queue'] });
