export { type WarmAdminOptions, warmAdminRoutes } from './admin-routes';
export { CacheWarmError, CacheWarmErrorCode } from './errors';
export { popular, timeOfDay } from './key-sources';
export type {
  CircuitOptions,
  CircuitState,
  Duration,
  KeySource,
  LoadContext,
  PopularityOptions,
  PopularKeys,
  RefreshAheadOptions,
  RunResult,
  RunTrigger,
  ScheduleOptions,
  StartupTaskOptions,
  StartupTaskRegistry,
  TimeOfDayKeys,
  WarmErrorContext,
  Warmer,
  WarmerDefinition,
  WarmerLogger,
  WarmerOptions,
  WarmerStatus,
  WarmFailure,
  WarmRedisClient,
  WarmStatus,
  WarmUpResult,
} from './types';
export { createWarmer } from './warmer';
export { xfetchDue } from './xfetch';
