import { Bench } from 'tinybench';
import { type BenchRow, printTable } from './table';

export interface System {
  /** Row label. The first system is the baseline the ratios refer to. */
  name: string;
  /** One operation; may be async. */
  fn: () => unknown;
}

export interface CompareOptions {
  /** Measuring time per system in milliseconds. @default 1000 */
  timeMs?: number;
  /** Warm-up time per system in milliseconds. @default 200 */
  warmupMs?: number;
  /** A line printed under the table. */
  note?: string;
}

/** Scales bench time down with PLAT_BENCH_QUICK=1 (used to check that every benchmark still runs). */
function scaled(ms: number): number {
  return process.env.PLAT_BENCH_QUICK === '1' ? Math.max(20, Math.round(ms / 20)) : ms;
}

/**
 * Measures every system in the same process, one after another, and prints one table of ops/s,
 * mean and p99 latency, with each row's throughput as a ratio of the first row's.
 *
 * @example
 * ```ts
 * await compareThroughput('GET hit', [
 *   { name: 'raw node-redis', fn: () => client.get('k') },
 *   { name: '@plat/cache-deps', fn: () => cache.get('k') },
 * ]);
 * ```
 */
export async function compareThroughput(
  title: string,
  systems: readonly System[],
  options: CompareOptions = {},
): Promise<BenchRow[]> {
  const bench = new Bench({
    time: scaled(options.timeMs ?? 1000),
    warmupTime: scaled(options.warmupMs ?? 200),
  });
  for (const system of systems) bench.add(system.name, system.fn);
  await bench.run();
  const rows: BenchRow[] = bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== 'completed') {
      const reason = result.state === 'errored' ? String(result.error) : result.state;
      throw new Error(`benchmark "${title}" / "${task.name}" did not complete: ${reason}`);
    }
    return {
      system: task.name,
      metrics: {
        // Reciprocal of the mean latency: the sustained rate, not a mean of instantaneous rates.
        'ops/s': 1000 / result.period,
        'mean µs': result.period * 1000,
        'p99 µs': result.latency.p99 * 1000,
        samples: result.latency.samples?.length ?? Number.NaN,
      },
    };
  });
  for (const row of rows) if (Number.isNaN(row.metrics.samples)) delete row.metrics.samples;
  printTable(title, rows, {
    ratioOf: 'ops/s',
    ...(options.note === undefined ? {} : { note: options.note }),
  });
  return rows;
}
