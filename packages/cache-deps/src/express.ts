/** Express adapter for @plat/cache-deps. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { cacheErrorStatus } from './http-status';

/** Answers @plat/cache-deps errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(cacheErrorStatus);
