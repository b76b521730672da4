export { createCache } from './cache';
export { jsonCodec } from './codec';
export { CacheError, CacheErrorCode } from './errors';
export { createMemoryStore, type MemoryStoreOptions } from './memory-store';
export type {
  RedisClientLike,
  RedisClusterLike,
  RedisClusterNodeLike,
  RedisNodeClientLike,
} from './redis-connection';
export { createRedisStore, type RedisStoreOptions } from './redis-store';
export { createResponseCache, type ResponseCacheOptions, responseDependsOn } from './response-cache';
export type {
  Cache,
  CacheEntry,
  CacheErrorContext,
  CacheOptions,
  CacheStore,
  Codec,
  CoherenceHandlers,
  CoherenceLink,
  CoherenceOptions,
  DependencyOptions,
  DependentsOptions,
  EdgeLifetime,
  InvalidateOptions,
  InvalidationResult,
  L1Options,
  ReadEvent,
  ReadLayer,
  SetOptions,
  StoreScope,
  StoreWrite,
  VisitItem,
  VisitMode,
  VisitResult,
  WrapOptions,
} from './types';
