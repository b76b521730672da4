/** Koa adapter for @plat/apikeys. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { apiKeyErrorStatus } from './http-status';

/** Answers @plat/apikeys errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(apiKeyErrorStatus);
