export { CacheError, CacheErrorCode } from './errors';
