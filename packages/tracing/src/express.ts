/** Express adapter for @plat/tracing. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { tracingErrorStatus } from './http-status';

/** Answers @plat/tracing errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(tracingErrorStatus);
