/** Express adapter for @plat/apikeys. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { apiKeyErrorStatus } from './http-status';

/** Answers @plat/apikeys errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(apiKeyErrorStatus);
