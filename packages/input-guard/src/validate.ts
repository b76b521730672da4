/**
 * `validate({ body, query, params })`: request validation with valibot schemas, written once as a
 * PlatMiddleware for the three bridges. Failures answer 400 `application/problem+json` listing
 * field paths and reason codes, never the submitted values.
 */
import { createContextSlot, type HttpExchange, type PlatMiddleware, toProblem } from '@plat/core';
import * as v from 'valibot';
import type { GuardIssue } from './actions';
import { InputGuardError } from './errors';
import { inputGuardErrorStatus } from './http-status';

/** Any sync or async valibot schema. */
export type AnySchema =
  | v.BaseSchema<unknown, unknown, v.BaseIssue<unknown>>
  | v.BaseSchemaAsync<unknown, unknown, v.BaseIssue<unknown>>;

/** The schemas `validate()` applies to each part of a request. */
export interface RequestSchemas {
  body?: AnySchema;
  query?: AnySchema;
  params?: AnySchema;
}

/** The parsed output of each part that had a schema. */
export type ValidatedRequest<S extends RequestSchemas> = {
  [K in keyof S]: S[K] extends AnySchema ? v.InferOutput<S[K]> : never;
};

/** One refused field in a 400 answer. */
export interface ValidationIssue {
  /** `body`, `query` or `params`. */
  readonly location: 'body' | 'query' | 'params';
  /** Dot path of the field (`nodes.0.config.url`), empty for the part itself. */
  readonly path: string;
  /** Reason code: a detector rule (`sqli.union`, `text.too-long`) or `schema.<type>` from valibot. */
  readonly code: string;
  /** A sentence that never quotes the submitted value. */
  readonly message: string;
}

/** Options of `validate()`. */
export interface ValidateOptions {
  /**
   * Most issues listed in one answer.
   * @default 20
   */
  maxIssues?: number;
  /**
   * Stop at the first issue of each part (cheaper on hostile input).
   * @default false
   */
  abortEarly?: boolean;
}

const validatedSlot = createContextSlot<Record<string, unknown>>('input-guard.validated');

/** Where the parsed output is also left on the raw Node.js request: `req[VALIDATED]`. */
export const VALIDATED: unique symbol = Symbol.for('@plat/input-guard.validated');

const GUARD_TYPES = new Set([
  'no_sql_injection',
  'no_xss',
  'no_command_injection',
  'no_path_traversal',
  'safe_text',
  'safe_code',
]);

function describe(issue: v.BaseIssue<unknown>): { code: string; message: string } {
  if (GUARD_TYPES.has(issue.type)) {
    const guard = issue as unknown as GuardIssue;
    return { code: guard.received, message: guard.message };
  }
  // Valibot's own messages quote the received value; build ours from what was expected.
  const expected = issue.expected === null ? '' : `: expected ${issue.expected.slice(0, 80)}`;
  return {
    code: `schema.${issue.type}`,
    message: `Invalid ${issue.kind === 'schema' ? 'value' : issue.type.replaceAll('_', ' ')}${expected}`,
  };
}

/**
 * The parsed output of `validate()` for the current request (read it in the handler). Works on
 * every framework because the bridges run the handler inside the request context.
 *
 * @example
 * ```ts
 * const { body } = getValidated<typeof schemas>();
 * ```
 */
export function getValidated<S extends RequestSchemas = RequestSchemas>(): ValidatedRequest<S> {
  const value = validatedSlot.get();
  if (value === undefined) {
    throw new InputGuardError(
      'INVALID_OPTIONS',
      'getValidated() was called outside a request that validate() ran on',
    );
  }
  return value as ValidatedRequest<S>;
}

async function parsePart(schema: AnySchema, value: unknown, abortEarly: boolean) {
  const config = { abortEarly, abortPipeEarly: true };
  return schema.async ? v.safeParseAsync(schema, value, config) : v.safeParse(schema, value, config);
}

/**
 * The framework-neutral middleware behind the adapters' `validate()`.
 *
 * @example
 * ```ts
 * const middleware = validateRequest({ body: v.object({ name: v.pipe(v.string(), safeText()) }) });
 * ```
 */
export function validateRequest(schemas: RequestSchemas, options: ValidateOptions = {}): PlatMiddleware {
  const maxIssues = options.maxIssues ?? 20;
  const abortEarly = options.abortEarly ?? false;
  const parts = (['params', 'query', 'body'] as const).filter((part) => schemas[part] !== undefined);
  return async (exchange: HttpExchange) => {
    const output: Record<string, unknown> = {};
    const issues: ValidationIssue[] = [];
    for (const part of parts) {
      const input =
        part === 'body'
          ? await exchange.readBody()
          : part === 'query'
            ? { ...exchange.query }
            : { ...exchange.params };
      const result = await parsePart(schemas[part]!, input, abortEarly);
      if (result.success) {
        output[part] = result.output;
        continue;
      }
      for (const issue of result.issues) {
        if (issues.length >= maxIssues) break;
        issues.push({ location: part, path: v.getDotPath(issue) ?? '', ...describe(issue) });
      }
    }
    if (issues.length > 0) {
      const error = new InputGuardError(
        'VALIDATION_FAILED',
        `The request has ${issues.length} invalid field${issues.length === 1 ? '' : 's'}`,
        { details: { issues } },
      );
      // Answered here rather than thrown: the bridges would name the request URL, query string
      // and path values included, as the problem's `instance`; the route template says enough.
      const { status, headers, body } = toProblem(error, inputGuardErrorStatus, exchange.route());
      return { status, headers, body };
    }
    validatedSlot.set(output);
    (exchange.req as unknown as Record<symbol, unknown>)[VALIDATED] = output;
    return undefined;
  };
}
