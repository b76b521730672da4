/**
 * The workflow routes, written once. Each app mounts this table with its framework's adapters:
 * `requireApiKey` with the route's scope, `validate` with its schemas, then `handle` with the
 * validated input. The caller is the API key's owner, read from the request context.
 */
import { currentContext, type HttpReply } from '@plat/core';
import { SecureWorkflowInput, WorkflowNode } from '@plat/input-guard';
import * as v from 'valibot';
import { WorkflowError } from './errors';
import type { CachedRead, Workflows } from './workflows';

export const WorkflowParams = v.object({ id: v.pipe(v.string(), v.uuid('Expected a workflow id (UUID)')) });
export const NodeParams = v.object({
  id: v.pipe(v.string(), v.uuid('Expected a workflow id (UUID)')),
  nodeId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a node id')),
});
export const RunBody = v.object({ input: v.optional(v.unknown(), null) });
export const StateQuery = v.object({
  version: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,9}$/, 'Expected a version number'), v.transform(Number)),
  ),
  asOf: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => !Number.isNaN(Date.parse(s)), 'Expected an ISO 8601 time'),
      v.transform((s) => new Date(s)),
    ),
  ),
});

/** What `validate()` hands the handler (each part present when the route has a schema for it). */
export interface RouteInput {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

export interface WorkflowRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** API key scope the route requires. */
  scope: 'workflows:read' | 'workflows:write' | 'workflows:run';
  /** valibot schemas for `validate()` from @plat/input-guard. */
  schemas: { params?: v.GenericSchema; query?: v.GenericSchema; body?: v.GenericSchema };
  handle(input: RouteInput): Promise<HttpReply>;
}

function caller(): string {
  const id = currentContext()?.principal?.id;
  if (id === undefined) throw new WorkflowError('UNAUTHENTICATED', 'No authenticated caller');
  return id;
}

const cached = <T>(read: CachedRead<T>): HttpReply => ({
  status: 200,
  headers: { 'x-cache': read.cache },
  body: read.value,
});
const ok = (body: unknown, status = 200): HttpReply => ({ status, body });

/**
 * The route table for `workflows`.
 *
 * @example
 * ```ts
 * for (const route of workflowRoutes(workflows)) console.log(route.method, route.path, route.scope);
 * ```
 */
export function workflowRoutes(workflows: Workflows): WorkflowRoute[] {
  const id = (input: RouteInput) => input.params?.id as string;
  return [
    {
      method: 'GET',
      path: '/workflows',
      scope: 'workflows:read',
      schemas: {},
      handle: async () => cached(await workflows.list(caller())),
    },
    {
      method: 'POST',
      path: '/workflows',
      scope: 'workflows:write',
      schemas: { body: SecureWorkflowInput },
      handle: async (input) =>
        ok(await workflows.create(caller(), input.body as v.InferOutput<typeof SecureWorkflowInput>), 201),
    },
    {
      method: 'GET',
      path: '/workflows/:id',
      scope: 'workflows:read',
      schemas: { params: WorkflowParams },
      handle: async (input) => cached(await workflows.get(caller(), id(input))),
    },
    {
      method: 'POST',
      path: '/workflows/:id/nodes',
      scope: 'workflows:write',
      schemas: { params: WorkflowParams, body: WorkflowNode },
      handle: async (input) =>
        ok(
          await workflows.addNode(caller(), id(input), input.body as v.InferOutput<typeof WorkflowNode>),
          201,
        ),
    },
    {
      method: 'DELETE',
      path: '/workflows/:id/nodes/:nodeId',
      scope: 'workflows:write',
      schemas: { params: NodeParams },
      handle: async (input) =>
        ok(await workflows.removeNode(caller(), id(input), input.params?.nodeId as string)),
    },
    {
      method: 'POST',
      path: '/workflows/:id/publish',
      scope: 'workflows:write',
      schemas: { params: WorkflowParams },
      handle: async (input) => ok(await workflows.publish(caller(), id(input))),
    },
    {
      method: 'POST',
      path: '/workflows/:id/run',
      scope: 'workflows:run',
      schemas: { params: WorkflowParams, body: RunBody },
      handle: async (input) =>
        ok(await workflows.run(caller(), id(input), (input.body as v.InferOutput<typeof RunBody>).input)),
    },
    {
      method: 'GET',
      path: '/workflows/:id/history',
      scope: 'workflows:read',
      schemas: { params: WorkflowParams },
      handle: async (input) => ok({ events: await workflows.history(caller(), id(input)) }),
    },
    {
      method: 'GET',
      path: '/workflows/:id/state',
      scope: 'workflows:read',
      schemas: { params: WorkflowParams, query: StateQuery },
      handle: async (input) => {
        const { version, asOf } = input.query as v.InferOutput<typeof StateQuery>;
        const target = version !== undefined ? { version } : asOf !== undefined ? { time: asOf } : undefined;
        if (target === undefined) return cached(await workflows.get(caller(), id(input)));
        return ok(await workflows.stateAt(caller(), id(input), target));
      },
    },
  ];
}
