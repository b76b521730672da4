/**
 * What the routes do, framework-neutral: append events (the read model follows inside the same
 * transaction), read through the dependency-aware cache, and invalidate by cascade after a change.
 *
 * Cache graph: `workflow:<owner>:<id>` depends on `user:<owner>` and `nodes:<id>` (a key with no
 * value of its own, standing for the node list); the owner's list `workflows:<owner>` depends on
 * `user:<owner>`. A change invalidates what it touched together with the owner's list, in one call:
 * adding a node invalidates `nodes:<id>` (which takes the workflow with it by cascade) and
 * `workflows:<owner>`.
 * Naming the list directly, rather than reaching it through edges to each workflow, is what keeps a
 * list that is being rebuilt during the change from being stored: `wrap` refuses a write when its
 * key was invalidated while it loaded, and it cannot know edges the loader has not found yet.
 */
import type { Cache, InvalidationResult } from '@plat/cache-deps';
import { annotateRequest } from '@plat/core';
import { createRelationLoader } from '@plat/db-perf';
import type { EventStore, RecordedEvent, ReplayTarget } from '@plat/event-store';
import {
  assertSafeCode,
  runSandboxed,
  type SecureWorkflow,
  type SecureWorkflowNode,
} from '@plat/input-guard';
import { withSpan } from '@plat/tracing';
import type { Kysely, Selectable } from 'kysely';
import { WorkflowError } from './errors';
import type { Database, NodesTable, WorkflowsTable } from './schema';
import {
  evolve,
  nodeState,
  streamOf,
  type WorkflowEvents,
  type WorkflowNodeState,
  type WorkflowState,
} from './workflow';

/** The cache keys. Workflow ids are UUIDs; owner ids may contain `:`, so they are never parsed last. */
export const cacheKeys = {
  user: (ownerId: string) => `user:${ownerId}`,
  workflow: (ownerId: string, id: string) => `workflow:${ownerId}:${id}`,
  nodes: (id: string) => `nodes:${id}`,
  list: (ownerId: string) => `workflows:${ownerId}`,
};

/**
 * What a cached key holds: how to build it and what it is built from. The routes read through it,
 * and anything that refills the cache ahead of a request (a warmer) can reload a key through it.
 */
export interface CacheEntryDefinition {
  load(): Promise<unknown>;
  dependsOn: string[];
}

/** A cached read and whether the cache answered it. */
export interface CachedRead<T> {
  value: T;
  cache: 'hit' | 'miss';
}

export interface RunResult {
  output: unknown;
  steps: Array<{ node: string; durationMs: number }>;
}

export interface HistoryEntry {
  version: number;
  type: string;
  data: unknown;
  recordedAt: string;
  actor: string | undefined;
  requestId: string | undefined;
  traceId: string | undefined;
}

export interface WorkflowsOptions {
  db: Kysely<Database>;
  events: EventStore<Database>;
  cache: Cache;
  /** Called after every cascade invalidation (the demo narrates them). */
  onInvalidate?: (root: string, result: InvalidationResult) => void;
}

/** The workflow operations behind the routes. */
export class Workflows {
  readonly #db: Kysely<Database>;
  readonly #events: EventStore<Database>;
  readonly #cache: Cache;
  readonly #onInvalidate: WorkflowsOptions['onInvalidate'];
  /** One batched query for the nodes of every workflow a request asks about (no N+1). */
  readonly #nodesOf;

  constructor(options: WorkflowsOptions) {
    this.#db = options.db;
    this.#events = options.events;
    this.#cache = options.cache;
    this.#onInvalidate = options.onInvalidate;
    this.#nodesOf = createRelationLoader(options.db, {
      table: 'workflow_nodes',
      foreignKey: 'workflow_id',
      columns: ['workflow_id', 'id', 'type', 'name', 'config', 'position'],
      orderBy: 'position',
    });
  }

  /** Records a new workflow: one WorkflowCreated and one NodeAdded per node, in one append. */
  async create(ownerId: string, input: SecureWorkflow): Promise<WorkflowState> {
    const id = crypto.randomUUID();
    const created: WorkflowEvents['WorkflowCreated'] = {
      ownerId,
      name: input.name,
      description: input.description,
      edges: input.edges,
    };
    const events = [
      { type: 'WorkflowCreated', data: created },
      ...input.nodes.map((node) => ({ type: 'NodeAdded', data: { node: nodeState(node) } })),
    ];
    await this.#events.append(streamOf(id), events, { expectedVersion: 'no_stream' });
    await this.#invalidate(ownerId, cacheKeys.list(ownerId));
    return (await this.get(ownerId, id)).value;
  }

  /** One workflow with its nodes, from the cache when it can. */
  async get(ownerId: string, id: string): Promise<CachedRead<WorkflowState>> {
    const workflow = await this.#readThrough<WorkflowState | null>(cacheKeys.workflow(ownerId, id));
    // Another owner's workflow is "not found", never "forbidden": ids do not leak.
    if (workflow.value === null) throw new WorkflowError('WORKFLOW_NOT_FOUND', `No workflow ${id}`);
    return { value: workflow.value, cache: workflow.cache };
  }

  /** The owner's workflows with their nodes: one query for the list, one batched for all nodes. */
  async list(ownerId: string): Promise<CachedRead<WorkflowState[]>> {
    return this.#readThrough<WorkflowState[]>(cacheKeys.list(ownerId));
  }

  /** How a workflow key or a list key is built, or undefined for a key this service does not own. */
  entryFor(key: string): CacheEntryDefinition | undefined {
    const workflow = /^workflow:(.+):([0-9a-f-]{36})$/.exec(key);
    if (workflow !== null) {
      const [, ownerId = '', id = ''] = workflow;
      return {
        load: () => this.#loadWorkflow(ownerId, id),
        dependsOn: [cacheKeys.user(ownerId), cacheKeys.nodes(id)],
      };
    }
    if (key.startsWith('workflows:')) {
      const ownerId = key.slice('workflows:'.length);
      return { load: () => this.#loadList(ownerId), dependsOn: [cacheKeys.user(ownerId)] };
    }
    return undefined;
  }

  async addNode(ownerId: string, id: string, node: SecureWorkflowNode): Promise<WorkflowState> {
    const current = (await this.get(ownerId, id)).value;
    if (current.nodes.some((n) => n.id === node.id)) {
      throw new WorkflowError('NODE_EXISTS', `Workflow ${id} already has a node ${node.id}`);
    }
    // Appending at the version we read: a concurrent change answers 409, never a lost update.
    await this.#events.append(streamOf(id), [{ type: 'NodeAdded', data: { node: nodeState(node) } }], {
      expectedVersion: current.version,
    });
    await this.#invalidate(ownerId, cacheKeys.nodes(id));
    return (await this.get(ownerId, id)).value;
  }

  async removeNode(ownerId: string, id: string, nodeId: string): Promise<WorkflowState> {
    const current = (await this.get(ownerId, id)).value;
    if (!current.nodes.some((n) => n.id === nodeId)) {
      throw new WorkflowError('NODE_NOT_FOUND', `Workflow ${id} has no node ${nodeId}`);
    }
    await this.#events.append(streamOf(id), [{ type: 'NodeRemoved', data: { nodeId } }], {
      expectedVersion: current.version,
    });
    await this.#invalidate(ownerId, cacheKeys.nodes(id));
    return (await this.get(ownerId, id)).value;
  }

  async publish(ownerId: string, id: string): Promise<WorkflowState> {
    const current = (await this.get(ownerId, id)).value;
    if (current.status === 'published') {
      throw new WorkflowError('ALREADY_PUBLISHED', `Workflow ${id} is already published`);
    }
    await this.#events.append(streamOf(id), [{ type: 'WorkflowPublished', data: { publishedBy: ownerId } }], {
      expectedVersion: current.version,
    });
    await this.#invalidate(ownerId, cacheKeys.workflow(ownerId, id));
    return (await this.get(ownerId, id)).value;
  }

  /**
   * Runs the workflow's code nodes in order, each in the QuickJS sandbox with the node's own time
   * and memory limits, feeding each one's output to the next. The code was checked when it was
   * stored; it is checked again because the rules may have tightened since.
   */
  async run(ownerId: string, id: string, input: unknown): Promise<RunResult> {
    const workflow = (await this.get(ownerId, id)).value;
    let value = input;
    const steps: RunResult['steps'] = [];
    for (const node of workflow.nodes) {
      if (node.type !== 'code') continue;
      const { code, timeoutMs, memoryBytes } = node.config as {
        code: string;
        timeoutMs: number;
        memoryBytes: number;
      };
      assertSafeCode(code);
      const result = await withSpan(`workflow.node ${node.id}`, () =>
        runSandboxed(code, value, { timeoutMs, memoryBytes }),
      );
      value = result.value;
      steps.push({ node: node.id, durationMs: Math.round(result.durationMs * 10) / 10 });
    }
    return { output: value, steps };
  }

  /** Every event of the workflow, oldest first, with who did it and under which request and trace. */
  async history(ownerId: string, id: string): Promise<HistoryEntry[]> {
    await this.get(ownerId, id);
    const slice = await this.#events.readStream(streamOf(id));
    return slice.events.map(historyEntry);
  }

  /** The workflow as it was at a version or a point in time (time travel). */
  async stateAt(
    ownerId: string,
    id: string,
    target: ReplayTarget,
  ): Promise<{ version: number; state: WorkflowState | null }> {
    await this.get(ownerId, id);
    const result = await this.#events.aggregateStream<WorkflowState | null>(streamOf(id), {
      evolve,
      initialState: () => null,
      upTo: target,
    });
    return { version: result.version, state: result.state };
  }

  /** Invalidates `root` (and what depends on it) together with the owner's list. */
  async #invalidate(ownerId: string, root: string): Promise<void> {
    const list = cacheKeys.list(ownerId);
    const result = await this.#cache.invalidateMany(root === list ? [root] : [root, list]);
    annotateRequest({ invalidated: result.keys });
    this.#onInvalidate?.(root, result);
  }

  /** Reads a key through the cache with its definition; `wrap` stores it only if nothing changed meanwhile. */
  async #readThrough<T>(key: string): Promise<CachedRead<T>> {
    const entry = this.entryFor(key)!;
    let loaded = false;
    const value = await this.#cache.wrap(
      key,
      () => {
        loaded = true;
        return entry.load() as Promise<T>;
      },
      { dependsOn: entry.dependsOn },
    );
    const cache = loaded ? 'miss' : 'hit';
    annotateRequest({ cache });
    return { value, cache };
  }

  async #loadWorkflow(ownerId: string, id: string): Promise<WorkflowState | null> {
    const row = await this.#db
      .selectFrom('workflows')
      .selectAll()
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
    if (row === undefined) return null;
    // Read directly, not through a nested cache entry: a dependency written while this value
    // loads would make the cache refuse to store it (it cannot tell that write from a change).
    return toState(row, (await this.#nodesOf.load(id)).map(toNode));
  }

  async #loadList(ownerId: string): Promise<WorkflowState[]> {
    const rows = await this.#db
      .selectFrom('workflows')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .orderBy('updated_at', 'desc')
      .limit(100)
      .execute();
    const nodes = await this.#nodesOf.loadMany(rows.map((r) => r.id));
    return rows.map((row, i) => toState(row, (nodes[i] ?? []).map(toNode)));
  }
}

function toNode(row: Selectable<NodesTable>): WorkflowNodeState {
  return {
    id: row.id,
    type: row.type as WorkflowNodeState['type'],
    name: row.name,
    config: JSON.parse(row.config) as Record<string, unknown>,
  };
}

function toState(row: Selectable<WorkflowsTable>, nodes: WorkflowNodeState[]): WorkflowState {
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    description: row.description,
    status: row.status,
    nodes,
    edges: JSON.parse(row.edges) as WorkflowState['edges'],
    version: Number(row.version),
  };
}

function historyEntry(event: RecordedEvent): HistoryEntry {
  return {
    version: event.version,
    type: event.type,
    data: event.data,
    recordedAt: event.recordedAt.toISOString(),
    actor: event.metadata.actor,
    requestId: event.metadata.requestId,
    traceId: event.metadata.traceId,
  };
}
