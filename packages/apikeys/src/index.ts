export { ApiKeyError, ApiKeyErrorCode } from './errors';
