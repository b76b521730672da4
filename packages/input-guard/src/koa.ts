/** Koa adapter for @plat/input-guard. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { inputGuardErrorStatus } from './http-status';

/** Answers @plat/input-guard errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(inputGuardErrorStatus);
