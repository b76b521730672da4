export { API_KEY_PATTERN_SOURCE, API_KEY_SHAPE, looksLikeApiKey, redactApiKeys } from './api-key-shape';
export { DEFAULT_BODY_LIMIT_BYTES, readJsonBody } from './body';
export {
  annotateRequest,
  type ContextSlot,
  createContextSlot,
  createRequestContext,
  currentContext,
  resolveRequestId,
  runWithContext,
  setPrincipal,
} from './context';
export {
  CoreError,
  CoreErrorCode,
  coreErrorStatus,
  isPlatError,
  PlatError,
  type PlatErrorOptions,
} from './errors';
export {
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemResponse,
  type StatusResolver,
  statusTable,
  toProblem,
} from './problem';
export { type RouteMatch, RouteTable } from './route-table';
export type {
  BridgeOptions,
  FinishedResponse,
  FrameworkName,
  HttpExchange,
  HttpMethod,
  HttpReply,
  PlatMiddleware,
  PlatRoute,
  Principal,
  RequestContext,
  RequestContextInit,
  RoutesOptions,
} from './types';
