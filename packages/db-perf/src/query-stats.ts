/**
 * In-process statistics per fingerprint: calls, time, p95, max and rows, like a per-process
 * pg_stat_statements that also works on SQLite and knows call sites.
 */
import type { QueryFingerprint } from './fingerprint';
import { DurationHistogram } from './histogram';
import type { QueryStats, QueryStatsOrder, QueryStatsReport, ReportOptions } from './types';

/** The running numbers of one fingerprint. */
export class FingerprintStats {
  calls = 0;
  failed = 0;
  totalMs = 0;
  maxMs = 0;
  rows = 0;
  rowCounted = 0;
  slow = 0;
  lastCallSite: string | undefined;
  readonly firstSeenAt = Date.now();
  lastSeenAt = Date.now();
  readonly histogram = new DurationHistogram();

  constructor(
    readonly fingerprint: QueryFingerprint,
    readonly thresholdMs: number,
  ) {}

  record(durationMs: number, failed: boolean): void {
    this.calls++;
    if (failed) this.failed++;
    this.totalMs += durationMs;
    if (durationMs > this.maxMs) this.maxMs = durationMs;
    this.histogram.record(durationMs);
    this.lastSeenAt = Date.now();
  }

  addRows(rows: number): void {
    this.rows += rows;
    this.rowCounted++;
  }

  toJSON(): QueryStats {
    return {
      fingerprint: this.fingerprint.text,
      fingerprintId: this.fingerprint.id,
      calls: this.calls,
      failed: this.failed,
      totalMs: round(this.totalMs),
      meanMs: round(this.calls === 0 ? 0 : this.totalMs / this.calls),
      p95Ms: round(this.histogram.quantile(0.95)),
      maxMs: round(this.maxMs),
      rows: this.rows,
      meanRows: round(this.rowCounted === 0 ? 0 : this.rows / this.rowCounted),
      slow: this.slow,
      thresholdMs: this.thresholdMs,
      lastCallSite: this.lastCallSite,
      firstSeenAt: new Date(this.firstSeenAt).toISOString(),
      lastSeenAt: new Date(this.lastSeenAt).toISOString(),
    };
  }
}

/** Statistics for every fingerprint, bounded by `capacity`. */
export class QueryStatsStore {
  #entries = new Map<string, FingerprintStats>();
  #since = Date.now();
  #droppedCalls = 0;

  constructor(
    private readonly capacity: number,
    private readonly thresholdFor: (fingerprint: QueryFingerprint) => number,
  ) {}

  /** The entry of a fingerprint, created on first use; undefined once the store is full. */
  entry(fingerprint: QueryFingerprint): FingerprintStats | undefined {
    const existing = this.#entries.get(fingerprint.id);
    if (existing !== undefined) return existing;
    if (this.#entries.size >= this.capacity) {
      this.#droppedCalls++;
      return undefined;
    }
    const created = new FingerprintStats(fingerprint, this.thresholdFor(fingerprint));
    this.#entries.set(fingerprint.id, created);
    return created;
  }

  report(options: ReportOptions = {}): QueryStatsReport {
    const orderBy: QueryStatsOrder = options.orderBy ?? 'totalMs';
    const limit = options.limit ?? 50;
    const all = [...this.#entries.values()].map((entry) => entry.toJSON());
    all.sort((a, b) => b[orderBy] - a[orderBy]);
    let totalCalls = 0;
    let totalMs = 0;
    for (const entry of this.#entries.values()) {
      totalCalls += entry.calls;
      totalMs += entry.totalMs;
    }
    return {
      since: new Date(this.#since).toISOString(),
      totalCalls,
      totalMs: round(totalMs),
      fingerprints: this.#entries.size,
      droppedCalls: this.#droppedCalls,
      queries: all.slice(0, Math.max(0, limit)),
    };
  }

  reset(): void {
    this.#entries = new Map();
    this.#since = Date.now();
    this.#droppedCalls = 0;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
