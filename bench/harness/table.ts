/**
 * One table per benchmark: a row per system, its measurements, and its ratio to the first row.
 */

export interface BenchRow {
  /** The system measured, for example `@plat/cache-deps` or `raw node-redis`. */
  system: string;
  /** Measurements by column name, in display order. */
  metrics: Record<string, number | string>;
}

export interface TableOptions {
  /** Which metric the ratio column compares. */
  ratioOf: string;
  /** True when a larger value is better (throughput); false for latency and cost. */
  higherIsBetter?: boolean;
  /** A line printed under the table: what was measured and how. */
  note?: string;
}

/** Formats a number for a table: thousands separators, at most three significant decimals. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** The ratio of each row to the first row, on `ratioOf` (`1.00x` for the baseline itself). */
export function ratios(rows: readonly BenchRow[], ratioOf: string): Array<number | undefined> {
  const base = rows[0]?.metrics[ratioOf];
  return rows.map((row) => {
    const value = row.metrics[ratioOf];
    return typeof base === 'number' && typeof value === 'number' && base !== 0 ? value / base : undefined;
  });
}

/** Renders a table as aligned plain text (Markdown-compatible pipes). */
export function renderTable(title: string, rows: readonly BenchRow[], options: TableOptions): string {
  const metricNames = [...new Set(rows.flatMap((row) => Object.keys(row.metrics)))];
  const ratioHeader = `ratio (${options.ratioOf}${options.higherIsBetter === false ? ', lower is better' : ''})`;
  const header = ['system', ...metricNames, ratioHeader];
  const rowRatios = ratios(rows, options.ratioOf);
  const body = rows.map((row, i) => {
    const ratio = rowRatios[i];
    return [
      row.system,
      ...metricNames.map((name) => {
        const value = row.metrics[name];
        return value === undefined ? '' : typeof value === 'number' ? formatNumber(value) : value;
      }),
      ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}x`,
    ];
  });
  const widths = header.map((cell, col) => Math.max(cell.length, ...body.map((line) => line[col]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, col) => (col === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const lines = [`\n### ${title}\n`, line(header), rule, ...body.map(line)];
  if (options.note) lines.push('', options.note);
  return `${lines.join('\n')}\n`;
}

/** Prints a table to stdout. */
export function printTable(title: string, rows: readonly BenchRow[], options: TableOptions): void {
  process.stdout.write(renderTable(title, rows, options));
}
