import { definePackageConfig, standardEntries } from '../../tsup.base';

export default definePackageConfig({ entry: [...standardEntries, 'src/kysely.ts'] });
