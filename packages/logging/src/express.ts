/** Express adapter for @plat/logging. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { loggingErrorStatus } from './http-status';

/** Answers @plat/logging errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(loggingErrorStatus);
