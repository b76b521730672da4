/**
 * Attribute names from the stable OpenTelemetry semantic conventions (HTTP since 1.23, database since
 * 1.33), written out so the hot path does not load the whole conventions package.
 */
export const ATTR = {
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_REQUEST_METHOD_ORIGINAL: 'http.request.method_original',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  HTTP_ROUTE: 'http.route',
  URL_PATH: 'url.path',
  URL_QUERY: 'url.query',
  URL_SCHEME: 'url.scheme',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  CLIENT_ADDRESS: 'client.address',
  USER_AGENT_ORIGINAL: 'user_agent.original',
  NETWORK_PROTOCOL_VERSION: 'network.protocol.version',
  ERROR_TYPE: 'error.type',
  DB_SYSTEM_NAME: 'db.system.name',
  DB_NAMESPACE: 'db.namespace',
  DB_QUERY_TEXT: 'db.query.text',
  DB_QUERY_SUMMARY: 'db.query.summary',
  DB_OPERATION_NAME: 'db.operation.name',
  DB_COLLECTION_NAME: 'db.collection.name',
  DB_RESPONSE_STATUS_CODE: 'db.response.status_code',
  DB_RESPONSE_RETURNED_ROWS: 'db.response.returned_rows',
  CODE_FUNCTION_NAME: 'code.function.name',
  SERVICE_NAME: 'service.name',
  SERVICE_VERSION: 'service.version',
  DEPLOYMENT_ENVIRONMENT_NAME: 'deployment.environment.name',
} as const;

/** The methods HTTP semantic conventions know; anything else is reported as `_OTHER`. */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
  'QUERY',
]);

/** This package as an instrumentation scope. */
export const SCOPE_NAME = '@plat/tracing';
export { version as SCOPE_VERSION } from '../package.json';
