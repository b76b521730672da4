/**
 * The domain: a workflow is a stream of events, and its state is the fold of those events. The same
 * fold answers "now" and "as of version 3" or "as of 10:42" (time travel), and feeds the event
 * store's admin routes.
 */
import type { AggregateDefinition, RecordedEvent } from '@plat/event-store';
import type { SecureWorkflowNode } from '@plat/input-guard';

export type WorkflowStatus = 'draft' | 'published';

export interface WorkflowNodeState {
  id: string;
  type: SecureWorkflowNode['type'];
  name: string | null;
  config: Record<string, unknown>;
}

export interface WorkflowEdge {
  from: string;
  to: string;
}

export interface WorkflowState {
  id: string;
  ownerId: string;
  name: string;
  description: string;
  status: WorkflowStatus;
  nodes: WorkflowNodeState[];
  edges: WorkflowEdge[];
  /** Stream version: how many events made this state. */
  version: number;
}

/** Every change to a workflow, as recorded in its stream. */
export interface WorkflowEvents {
  WorkflowCreated: { ownerId: string; name: string; description: string; edges: WorkflowEdge[] };
  NodeAdded: { node: WorkflowNodeState };
  NodeRemoved: { nodeId: string };
  WorkflowPublished: { publishedBy: string };
}
export type WorkflowEventType = keyof WorkflowEvents;

export const STREAM_PREFIX = 'workflow-';

/** The stream holding one workflow's events. */
export function streamOf(workflowId: string): string {
  return `${STREAM_PREFIX}${workflowId}`;
}

/** A validated node as stored in events and state (config kept as plain JSON). */
export function nodeState(node: SecureWorkflowNode): WorkflowNodeState {
  return { id: node.id, type: node.type, name: node.name ?? null, config: { ...node.config } };
}

/**
 * One step of the fold. `null` is "no workflow yet"; unknown event types are ignored so old code
 * can read streams written by newer code.
 */
export function evolve(state: WorkflowState | null, event: RecordedEvent): WorkflowState | null {
  const id = event.streamId.slice(STREAM_PREFIX.length);
  const at = { version: event.version };
  switch (event.type as WorkflowEventType) {
    case 'WorkflowCreated': {
      const data = event.data as WorkflowEvents['WorkflowCreated'];
      return { id, ...data, status: 'draft', nodes: [], ...at };
    }
    case 'NodeAdded': {
      if (state === null) return state;
      const { node } = event.data as WorkflowEvents['NodeAdded'];
      return { ...state, nodes: [...state.nodes, node], ...at };
    }
    case 'NodeRemoved': {
      if (state === null) return state;
      const { nodeId } = event.data as WorkflowEvents['NodeRemoved'];
      return {
        ...state,
        nodes: state.nodes.filter((n) => n.id !== nodeId),
        edges: state.edges.filter((e) => e.from !== nodeId && e.to !== nodeId),
        ...at,
      };
    }
    case 'WorkflowPublished':
      return state === null ? state : { ...state, status: 'published', ...at };
    default:
      return state === null ? state : { ...state, ...at };
  }
}

/** The fold as the event store wants it (aggregateStream, the admin history routes). */
export const workflowAggregate: AggregateDefinition<WorkflowState | null> = {
  evolve,
  initialState: () => null,
};
