/** Koa adapter for @plat/input-guard. */
import { koaErrorHandler, koaMiddleware } from '@plat/core/koa';
import type { Middleware } from 'koa';
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
 * Koa middleware validating the JSON body (read from `ctx.request.body` when a body parser ran,
 * otherwise from the stream), `ctx.query` and `ctx.params` (@koa/router) with valibot schemas;
 * answers 400 problem+json on failure. Read the parsed output with `getValidated()` or
 * `ctx.req[VALIDATED]`. Mount it on the route.
 *
 * @example
 * ```ts
 * router.post('/workflows', validate({ body: SecureWorkflowInput }), (ctx) => { ctx.body = getValidated().body; });
 * ```
 */
export function validate(schemas: RequestSchemas, options: ValidateOptions = {}): Middleware {
  return koaMiddleware(validateRequest(schemas, options), { statusOf: inputGuardErrorStatus });
}

/** Answers @plat/input-guard errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(inputGuardErrorStatus);
