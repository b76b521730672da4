export { HealthError, HealthErrorCode } from './errors';
