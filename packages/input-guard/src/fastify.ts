/** Fastify adapter for @plat/input-guard. */
import { fastifyErrorHandler, fastifyHook } from '@plat/core/fastify';
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
 * A route hook validating `request.body`, `request.query` and `request.params` with valibot
 * schemas; answers 400 problem+json on failure. Use it as the route's `preHandler` (the body is
 * parsed by then). Read the parsed output with `getValidated()` or `request.raw[VALIDATED]`.
 *
 * @example
 * ```ts
 * app.post('/workflows', { preHandler: validate({ body: SecureWorkflowInput }) }, async () => getValidated().body);
 * ```
 */
export function validate(
  schemas: RequestSchemas,
  options: ValidateOptions = {},
): ReturnType<typeof fastifyHook> {
  return fastifyHook(validateRequest(schemas, options), { statusOf: inputGuardErrorStatus });
}

/** Answers @plat/input-guard errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(inputGuardErrorStatus);
