import { definePackageConfig } from '../../tsup.base';

export default definePackageConfig();
