/**
 * The read model: plain tables kept up to date from the workflow events (see `projection.ts`), so
 * listing and reading never replay streams. The events stay the source of truth.
 */
import type { Kysely } from 'kysely';

export interface WorkflowsTable {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  status: 'draft' | 'published';
  /** JSON text: `[{ from, to }]`. Text on both dialects, so one schema serves SQLite and PostgreSQL. */
  edges: string;
  /** The stream version this row reflects. */
  version: number;
  updated_at: string;
}

export interface NodesTable {
  workflow_id: string;
  id: string;
  type: string;
  name: string | null;
  /** JSON text of the node's validated config. */
  config: string;
  position: number;
}

export interface Database {
  workflows: WorkflowsTable;
  workflow_nodes: NodesTable;
}

/**
 * Creates the read-model tables when missing (the event store and the API key store migrate their
 * own tables). Runs as a startup task, so the startup probe stays red until it is done.
 *
 * @example
 * ```ts
 * health.startupTask('migrations', () => migrateReadModel(db));
 * ```
 */
export async function migrateReadModel(db: Kysely<Database>): Promise<void> {
  await db.schema
    .createTable('workflows')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('edges', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('workflows_owner_idx')
    .ifNotExists()
    .on('workflows')
    .columns(['owner_id', 'updated_at'])
    .execute();
  await db.schema
    .createTable('workflow_nodes')
    .ifNotExists()
    .addColumn('workflow_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)')
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_nodes_pk', ['workflow_id', 'id'])
    .execute();
}
