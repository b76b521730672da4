export { ApiKeyError, ApiKeyErrorCode } from './errors';
export { apiKeyErrorStatus, apiKeyStatusCodes } from './http-status';
export { formatApiKey, isWellFormedApiKey, type ParsedApiKey, parseApiKey } from './key-format';
export {
  createKyselyKeyStore,
  createPostgresKeyStore,
  createSqliteKeyStore,
  type KeyStoreDialect,
  type KyselyKeyStoreOptions,
  type PostgresKeyStoreOptions,
  type SqliteKeyStoreOptions,
} from './kysely-store';
export { createApiKeyManager } from './manager';
export { apiKeyMiddleware, currentApiKey } from './middleware';
export { createPostgresInvalidationSignal, type PostgresInvalidationOptions } from './postgres-invalidation';
export { type ApiKeyRouteSet, apiKeyRoutes } from './routes';
export type {
  ApiKeyStore,
  AuditEntry,
  KeyChange,
  ListQuery,
  StoredApiKey,
  StoredKeyStatus,
  UsageDelta,
} from './store';
export type {
  ActorOptions,
  ApiKeyAccepted,
  ApiKeyInfo,
  ApiKeyManager,
  ApiKeyManagerOptions,
  ApiKeyRedis,
  ApiKeyRedisSubscriber,
  ApiKeyRejected,
  ApiKeyRejectionReason,
  ApiKeyRoutesOptions,
  ApiKeyStatus,
  ApiKeyValidation,
  AuditAction,
  AuditEvent,
  AutoRotatedKey,
  AutoRotationOptions,
  CreateApiKeyInput,
  CreatedApiKey,
  EncryptionKey,
  EncryptionOptions,
  InvalidationSignal,
  KeyChangeOptions,
  ListApiKeysOptions,
  Pepper,
  Quota,
  RateLimit,
  RequireApiKeyOptions,
  RotateApiKeyOptions,
  UsageOptions,
  ValidatedApiKey,
  ValidateOptions,
  ValidationCacheOptions,
} from './types';
