/**
 * `requireApiKey` written once for every framework: reads the key from the request, validates it,
 * answers 401 / 403 / 429 as problem+json, or records the principal in the request context.
 */
import {
  createContextSlot,
  type HttpExchange,
  type HttpReply,
  type PlatMiddleware,
  type Principal,
  setPrincipal,
  toProblem,
} from '@plat/core';
import { ApiKeyError } from './errors';
import { apiKeyErrorStatus } from './http-status';
import * as input from './input';
import type {
  ApiKeyManager,
  ApiKeyRejected,
  ApiKeyRejectionReason,
  ApiKeyValidation,
  RequireApiKeyOptions,
  ValidatedApiKey,
} from './types';

const keySlot = createContextSlot<ValidatedApiKey>('@plat/apikeys.key');

/**
 * The key that authenticated the current request, or undefined (no key, or outside a request).
 *
 * @example
 * ```ts
 * app.get('/me', (req, res) => res.json({ owner: currentApiKey()?.ownerId }));
 * ```
 */
export function currentApiKey(): ValidatedApiKey | undefined {
  return keySlot.get();
}

const MESSAGES: Readonly<Record<ApiKeyRejectionReason | 'MISSING_KEY', string>> = {
  MISSING_KEY: 'An API key is required (Authorization: Bearer <key> or X-API-Key)',
  MALFORMED: 'The API key is malformed',
  NOT_FOUND: 'The API key is not recognised',
  REVOKED: 'The API key was revoked',
  EXPIRED: 'The API key has expired',
  DISABLED: 'The API key is disabled',
  INSUFFICIENT_SCOPE: 'The API key lacks a required scope',
  RATE_LIMITED: 'The API key exceeded its rate limit',
  QUOTA_EXCEEDED: 'The API key used up its quota for this period',
};

/** The problem+json answer for a rejected key (never containing the key). */
export function rejectionReply(
  exchange: HttpExchange | undefined,
  reason: ApiKeyRejectionReason | 'MISSING_KEY',
  rejected?: ApiKeyRejected,
): HttpReply {
  const details: Record<string, unknown> = {};
  if (rejected?.missingScopes !== undefined) details.missingScopes = rejected.missingScopes;
  if (rejected?.retryAfterSeconds !== undefined) details.retryAfterSeconds = rejected.retryAfterSeconds;
  const error = new ApiKeyError(reason, MESSAGES[reason], Object.keys(details).length > 0 ? { details } : {});
  // The path only: a query string could carry a key, and the answer must not echo it.
  const problem = toProblem(error, apiKeyErrorStatus, exchange?.path);
  const headers: Record<string, string> = { ...problem.headers };
  if (problem.status === 401) {
    headers['www-authenticate'] =
      reason === 'MISSING_KEY'
        ? 'Bearer'
        : `Bearer error="invalid_token", error_description="${MESSAGES[reason]}"`;
  } else if (problem.status === 403) {
    const scope = (rejected?.missingScopes ?? []).join(' ');
    headers['www-authenticate'] = `Bearer error="insufficient_scope", scope="${scope}"`;
  }
  return { status: problem.status, headers, body: problem.body };
}

/** The presented key: `Authorization: Bearer <key>`, or a header holding the bare key. */
export function presentedKey(exchange: HttpExchange, headers: readonly string[]): string | undefined {
  for (const name of headers) {
    const value = exchange.header(name);
    if (value === undefined || value === '') continue;
    if (name === 'authorization') {
      // Another scheme (Basic, say) is not ours: look at the next header.
      if (value.length > 7 && value.slice(0, 7).toLowerCase() === 'bearer ') return value.slice(7).trim();
      continue;
    }
    return value.trim();
  }
  return undefined;
}

/**
 * The framework-neutral middleware behind every adapter's `requireApiKey`.
 *
 * @example
 * ```ts
 * app.use(expressMiddleware(apiKeyMiddleware(keys, { scopes: ['workflows:read'] }), { statusOf: apiKeyErrorStatus }));
 * ```
 */
export function apiKeyMiddleware(manager: ApiKeyManager, options: RequireApiKeyOptions = {}): PlatMiddleware {
  const scopes = input.scopes(options.scopes, 'scopes');
  const headers = (options.headers ?? ['authorization', 'x-api-key']).map((h) => h.toLowerCase());
  if (headers.length === 0) throw new ApiKeyError('INVALID_OPTIONS', 'headers must name at least one header');
  const { optional = false, tenantOf, skip } = options;
  const validateOptions = scopes.length > 0 ? { requiredScopes: scopes } : undefined;
  // One principal per key, built on its first request: the hot path allocates nothing for it.
  const principals = new WeakMap<ValidatedApiKey, Principal>();

  const settle = (exchange: HttpExchange, outcome: ApiKeyValidation): HttpReply | undefined => {
    if (!outcome.valid) return rejectionReply(exchange, outcome.reason, outcome);
    const key = outcome.key;
    let principal = principals.get(key);
    if (principal === undefined) {
      const tenantId = tenantOf?.(key);
      principal = Object.freeze({
        id: key.ownerId,
        kind: 'api-key',
        scopes: key.scopes,
        credentialId: key.keyId,
        ...(tenantId === undefined ? {} : { tenantId }),
      });
      principals.set(key, principal);
    }
    setPrincipal(principal);
    keySlot.set(key);
    return undefined;
  };

  return (exchange) => {
    if (skip?.(exchange)) return undefined;
    const key = presentedKey(exchange, headers);
    if (key === undefined) return optional ? undefined : rejectionReply(exchange, 'MISSING_KEY');
    const outcome = manager.check(key, validateOptions);
    return outcome instanceof Promise
      ? outcome.then((result) => settle(exchange, result))
      : settle(exchange, outcome);
  };
}
