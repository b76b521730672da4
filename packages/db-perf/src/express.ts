/** Express adapter for @plat/db-perf. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { dbPerfErrorStatus } from './http-status';

/** Answers @plat/db-perf errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(dbPerfErrorStatus);
