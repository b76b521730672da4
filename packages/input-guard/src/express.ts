/** Express adapter for @plat/input-guard. */
import { expressErrorHandler, expressMiddleware } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { inputGuardErrorStatus } from './http-status';
import { type RequestSchemas, type ValidateOptions, validateRequest } from './validate';

export {
  getValidated,
  type RequestSchemas,
  VALIDATED,
  type ValidatedRequest,
  type ValidateOptions,
} from './validate';

/**
 * Validates `req.body` (after `express.json()`), `req.query` and `req.params` with valibot
 * schemas; answers 400 problem+json on failure. Read the parsed output with `getValidated()` or
 * `req[VALIDATED]`. Mount it on the route, so `req.params` is known.
 *
 * @example
 * ```ts
 * app.post('/workflows/:id', validate({ body: SecureWorkflowInput }), (req, res) => res.json(getValidated().body));
 * ```
 */
export function validate(schemas: RequestSchemas, options: ValidateOptions = {}): RequestHandler {
  return expressMiddleware(validateRequest(schemas, options), { statusOf: inputGuardErrorStatus });
}

/** Answers @plat/input-guard errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(inputGuardErrorStatus);
