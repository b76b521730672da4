export { TracingError, TracingErrorCode } from './errors';
