/**
 * Keeps the read model (`workflows`, `workflow_nodes`) in step with the events, inside the same
 * transaction as each append: a reader never sees an event without its row, or the reverse.
 */
import type { InlineProjection, RecordedEvent } from '@plat/event-store';
import type { Transaction } from 'kysely';
import type { Database } from './schema';
import { STREAM_PREFIX, type WorkflowEdge, type WorkflowEvents, type WorkflowEventType } from './workflow';

async function applyOne(trx: Transaction<Database>, event: RecordedEvent): Promise<void> {
  const id = event.streamId.slice(STREAM_PREFIX.length);
  const touched = { version: event.version, updated_at: event.recordedAt.toISOString() };
  switch (event.type as WorkflowEventType) {
    case 'WorkflowCreated': {
      const data = event.data as WorkflowEvents['WorkflowCreated'];
      await trx
        .insertInto('workflows')
        .values({
          id,
          owner_id: data.ownerId,
          name: data.name,
          description: data.description,
          status: 'draft',
          edges: JSON.stringify(data.edges),
          ...touched,
        })
        .execute();
      return;
    }
    case 'NodeAdded': {
      const { node } = event.data as WorkflowEvents['NodeAdded'];
      await trx
        .insertInto('workflow_nodes')
        .values({
          workflow_id: id,
          id: node.id,
          type: node.type,
          name: node.name,
          config: JSON.stringify(node.config),
          // The event's version orders nodes as they were added, without reading the table.
          position: event.version,
        })
        .execute();
      break;
    }
    case 'NodeRemoved': {
      const { nodeId } = event.data as WorkflowEvents['NodeRemoved'];
      await trx.deleteFrom('workflow_nodes').where('workflow_id', '=', id).where('id', '=', nodeId).execute();
      const row = await trx.selectFrom('workflows').select('edges').where('id', '=', id).executeTakeFirst();
      const edges = JSON.parse(row?.edges ?? '[]') as WorkflowEdge[];
      const kept = edges.filter((e) => e.from !== nodeId && e.to !== nodeId);
      await trx
        .updateTable('workflows')
        .set({ edges: JSON.stringify(kept) })
        .where('id', '=', id)
        .execute();
      break;
    }
    case 'WorkflowPublished':
      await trx.updateTable('workflows').set({ status: 'published' }).where('id', '=', id).execute();
      break;
  }
  await trx.updateTable('workflows').set(touched).where('id', '=', id).execute();
}

/** The inline projection registered with the event store. */
export const readModelProjection: InlineProjection<Database> = {
  name: 'workflows-read-model',
  async apply(events, trx) {
    for (const event of events) {
      if (event.streamId.startsWith(STREAM_PREFIX)) await applyOne(trx, event);
    }
  },
};
