import { type Kysely, sql } from 'kysely';
import type { TableNames } from './tables';
import type { EventStoreDialect } from './types';

/** A stored subscription position and the revision used for compare-and-set. */
export interface StoredCheckpoint {
  cursor: string;
  revision: number;
}

/**
 * Durable subscription checkpoints. Every save is a compare-and-set on `revision`, so a
 * subscription notices when another instance or a projection rebuild moved its checkpoint.
 */
export class Checkpoints {
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly t: TableNames,
    private readonly dialect: EventStoreDialect,
  ) {}

  #now() {
    return this.dialect === 'postgres' ? sql`now()` : sql`${Date.now()}`;
  }

  async get(name: string, exec: Kysely<unknown> = this.db): Promise<StoredCheckpoint | undefined> {
    const { rows } = await sql<{ cursor: string; revision: string | number }>`
      select cursor, revision from ${sql.id(this.t.checkpoints)} where name = ${name}`.execute(exec);
    const row = rows[0];
    return row === undefined ? undefined : { cursor: row.cursor, revision: Number(row.revision) };
  }

  /** The stored checkpoint, created at `initial()` on first use. */
  async load(name: string, initial: () => Promise<string>): Promise<StoredCheckpoint> {
    const found = await this.get(name);
    if (found !== undefined) return found;
    const cursor = await initial();
    await sql`insert into ${sql.id(this.t.checkpoints)} (name, cursor, revision, updated_at)
      values (${name}, ${cursor}, 0, ${this.#now()}) on conflict (name) do nothing`.execute(this.db);
    return (await this.get(name))!;
  }

  /** Moves the checkpoint if it is still at `revision`; returns the new revision, or undefined on conflict. */
  async save(
    name: string,
    cursor: string,
    revision: number,
    exec: Kysely<unknown> = this.db,
  ): Promise<number | undefined> {
    const result = await sql`update ${sql.id(this.t.checkpoints)}
      set cursor = ${cursor}, revision = revision + 1, updated_at = ${this.#now()}
      where name = ${name} and revision = ${revision}`.execute(exec);
    return result.numAffectedRows === 1n ? revision + 1 : undefined;
  }

  /** Sets the checkpoint whatever its revision (projection rebuilds). */
  async reset(name: string, cursor: string, exec: Kysely<unknown> = this.db): Promise<void> {
    await sql`insert into ${sql.id(this.t.checkpoints)} (name, cursor, revision, updated_at)
      values (${name}, ${cursor}, 1, ${this.#now()})
      on conflict (name) do update set cursor = excluded.cursor,
        revision = ${sql.id(this.t.checkpoints)}.revision + 1, updated_at = excluded.updated_at`.execute(
      exec,
    );
  }
}
