export { EventStoreError, EventStoreErrorCode } from './errors';
