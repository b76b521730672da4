/**
 * `@plat/tracing/esm-hooks`: registers OpenTelemetry's ESM loader hook (import-in-the-middle), so the
 * `http`, `pg` and node-redis instrumentations also patch modules an ES-module app imports. CommonJS
 * apps do not need it. Load it first, before the file that calls `setupTracing`:
 *
 *   node --import @plat/tracing/esm-hooks --import ./tracing.js app.js
 */
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

/** Marks the hooks as registered (this module's work is its import). */
export const esmHooksRegistered = true;
