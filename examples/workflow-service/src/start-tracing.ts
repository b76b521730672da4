/**
 * `@plat-example/workflow-service/tracing`: import it first in an entry point. It starts tracing
 * before pg, node-redis and http are loaded, so their instrumentations can patch them (imports are
 * evaluated in order; this module itself loads only @plat/tracing).
 */
import { readConfig } from './config';
import { startTracing } from './tracing';

/** The process's tracing; `shutdown()` flushes pending spans. */
export const tracing = startTracing(readConfig());
