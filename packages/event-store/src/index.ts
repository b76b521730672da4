export { compareCursors, START_CURSOR } from './cursor';
export { EventStoreError, EventStoreErrorCode } from './errors';
export { eventStoreErrorStatus } from './http-status';
export { createMigrator } from './migrations';
export { eventStoreRoutes } from './routes';
export { createEventStore, EventStore } from './store';
export { type TableNames, tableNames } from './tables';
export type {
  AggregateDefinition,
  AggregateOptions,
  AggregateResult,
  AppendOptions,
  AppendResult,
  AsyncProjection,
  AuditEntry,
  AuditPage,
  AuditQuery,
  EventInput,
  EventMetadata,
  EventStoreDialect,
  EventStoreOptions,
  EventStoreRouterOptions,
  EventStoreRoutesOptions,
  ExpectedVersion,
  InlineProjection,
  ListenClient,
  ListenPool,
  LogPage,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  ReplayTarget,
  SnapshotOptions,
  StreamSlice,
  SubscribeOptions,
  Subscription,
  Upcaster,
} from './types';
