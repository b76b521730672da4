/** Express adapter for @plat/health. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { healthErrorStatus } from './http-status';

/** Answers @plat/health errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(healthErrorStatus);
