export { createCache } from './cache';
export { jsonCodec } from './codec';
export { CacheError, CacheErrorCode } from './errors';
export { createMemoryStore } from './memory-store';
export type {
  RedisClientLike,
  RedisClusterLike,
  RedisClusterNodeLike,
  RedisNodeClientLike,
} from './redis-connection';
export { createRedisStore } from './redis-store';
export { createResponseCache, responseDependsOn } from './response-cache';
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
  MemoryStoreOptions,
  ReadEvent,
  ReadLayer,
  RedisStoreOptions,
  ResponseCacheOptions,
  SetOptions,
  StoreScope,
  StoreWrite,
  VisitItem,
  VisitMode,
  VisitResult,
  WrapOptions,
} from './types';
