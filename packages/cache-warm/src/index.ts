export { CacheWarmError, CacheWarmErrorCode } from './errors';
