/** Express adapter for @plat/cache-warm. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { cacheWarmErrorStatus } from './http-status';

/** Answers @plat/cache-warm errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(cacheWarmErrorStatus);
