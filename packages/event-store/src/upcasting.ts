import { EventStoreError } from './errors';
import type { RecordedEvent, Upcaster } from './types';

/** Upcasters indexed by `type` then `fromSchemaVersion`, applied in a chain on read. */
export class UpcasterChain {
  readonly #byType = new Map<string, Map<number, Upcaster>>();

  constructor(upcasters: readonly Upcaster[]) {
    for (const upcaster of upcasters) {
      if (!Number.isInteger(upcaster.fromSchemaVersion) || upcaster.fromSchemaVersion < 1) {
        throw new EventStoreError(
          'INVALID_OPTIONS',
          `upcasters: fromSchemaVersion of "${upcaster.type}" must be an integer ≥ 1`,
        );
      }
      const versions = this.#byType.get(upcaster.type) ?? new Map<number, Upcaster>();
      this.#byType.set(upcaster.type, versions);
      if (versions.has(upcaster.fromSchemaVersion)) {
        throw new EventStoreError(
          'INVALID_OPTIONS',
          `upcasters: two upcasters for "${upcaster.type}" from schema version ${upcaster.fromSchemaVersion}`,
        );
      }
      versions.set(upcaster.fromSchemaVersion, upcaster);
    }
  }

  get empty(): boolean {
    return this.#byType.size === 0;
  }

  /** Lifts the event in place through every matching upcaster (a renamed type continues its own chain). */
  apply(event: RecordedEvent): RecordedEvent {
    for (let guard = 0; guard < 1000; guard++) {
      const upcaster = this.#byType.get(event.type)?.get(event.schemaVersion);
      if (upcaster === undefined) return event;
      event.data = upcaster.upcast(event.data, event);
      event.schemaVersion += 1;
      if (upcaster.toType !== undefined) event.type = upcaster.toType;
    }
    throw new EventStoreError('INVALID_OPTIONS', `upcasters for "${event.type}" form a cycle`);
  }
}
