/** Koa adapter for @plat/db-perf. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { dbPerfErrorStatus } from './http-status';

/** Answers @plat/db-perf errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(dbPerfErrorStatus);
