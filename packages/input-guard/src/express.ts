/** Express adapter for @plat/input-guard. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { inputGuardErrorStatus } from './http-status';

/** Answers @plat/input-guard errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(inputGuardErrorStatus);
