import { definePackageConfig } from '../../tsup.base';

// p-limit 7 is ESM-only: bundle it (and its one dependency) so the CJS build can require it.
export default definePackageConfig({ noExternal: ['p-limit', 'yocto-queue'] });
