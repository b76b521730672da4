export { LoggingError, LoggingErrorCode } from './errors';
