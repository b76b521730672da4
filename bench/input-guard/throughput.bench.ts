/**
 * Throughput on benign text (MB/s of UTF-8 input) per detector and for safeText, beside the regex
 * blacklist and DOMPurify; then the worst case: time to scan 100 KB adversarial values.
 */
import {
  checkSafeText,
  detectCommandInjection,
  detectPathTraversal,
  detectSqlInjection,
  detectXss,
  scan,
} from '@plat/input-guard';
import { type BenchRow, printTable } from '../harness';
import { domPurifyDetector, regexBlacklist } from './baselines';
import { corpusDir, readLines } from './corpus';

const QUICK = process.env.PLAT_BENCH_QUICK === '1';

/** Benign values: the corpus when present, otherwise a built-in sample of ordinary text. */
function benignValues(): string[] {
  const dir = corpusDir();
  const lines = dir === undefined ? [] : readLines(dir, 'benign.txt');
  if (lines.length > 0) return lines;
  return [
    "O'Brien",
    'Toronto, ON, Canada - (YYZ)',
    'Nightly report for the operations team',
    'Please review the attached invoice & call me at 555-0100 (after 5pm).',
    'See https://example.com/docs?page=2&lang=en for the details.',
    'The quick brown fox jumps over the lazy dog.',
  ];
}

/** Runs `fn` over every value for about `ms` of CPU time; MB/s of input and µs per value. */
function measure(values: readonly string[], bytes: number, fn: (value: string) => unknown, ms: number) {
  for (const value of values) fn(value); // warm-up
  const start = process.cpuUsage();
  const wallStart = performance.now();
  let passes = 0;
  let cpuMs = 0;
  do {
    for (const value of values) fn(value);
    passes++;
    const used = process.cpuUsage(start);
    cpuMs = (used.user + used.system) / 1000;
  } while (cpuMs < ms);
  const wallMs = performance.now() - wallStart;
  return {
    'MB/s (CPU)': (bytes * passes) / (cpuMs / 1000) / 1e6,
    'MB/s (wall)': (bytes * passes) / (wallMs / 1000) / 1e6,
    'µs/value': (cpuMs * 1000) / (passes * values.length),
  };
}

export default async function run(): Promise<void> {
  const values = benignValues();
  const bytes = values.reduce((sum, value) => sum + Buffer.byteLength(value), 0);
  const ms = QUICK ? 50 : 1500;
  const purify = domPurifyDetector();
  const blacklist = [
    regexBlacklist('sqli'),
    regexBlacklist('xss'),
    regexBlacklist('command'),
    regexBlacklist('path'),
  ];
  const systems: Array<[string, (value: string) => unknown]> = [
    ['regex blacklist (4 kinds)', (value) => blacklist.some((test) => test(value))],
    ['DOMPurify (xss only)', purify],
    ['detectSqlInjection', (value) => detectSqlInjection(value)],
    ['detectXss', (value) => detectXss(value)],
    ['detectCommandInjection', (value) => detectCommandInjection(value)],
    ['detectPathTraversal', (value) => detectPathTraversal(value)],
    ['scan (4 kinds)', (value) => scan(value)],
    ['checkSafeText (4 kinds + text rules)', (value) => checkSafeText(value)],
  ];
  const rows: BenchRow[] = systems.map(([system, fn]) => ({
    system,
    metrics: measure(values, bytes, fn, ms),
  }));
  printTable(
    `throughput on benign text (${values.length} values, ${(bytes / 1024).toFixed(0)} KiB per pass)`,
    rows,
    {
      ratioOf: 'MB/s (CPU)',
      note: 'MB/s of UTF-8 input, from process CPU time (and wall time, which a busy machine inflates). Values are short (~26 bytes on average), so per-call cost dominates.',
    },
  );

  // The same text as longer values (20 lines joined into one paragraph), where per-call cost is
  // amortised: closer to description and comment fields.
  const paragraphs: string[] = [];
  for (let i = 0; i < values.length; i += 20) paragraphs.push(values.slice(i, i + 20).join(' '));
  const paragraphBytes = paragraphs.reduce((sum, value) => sum + Buffer.byteLength(value), 0);
  const longRows: BenchRow[] = [
    ['regex blacklist (4 kinds)', (value: string) => blacklist.some((test) => test(value))] as const,
    ['scan (4 kinds)', (value: string) => scan(value)] as const,
    ['checkSafeText (4 kinds + text rules)', (value: string) => checkSafeText(value)] as const,
  ].map(([system, fn]) => ({ system, metrics: measure(paragraphs, paragraphBytes, fn, ms) }));
  printTable(
    `throughput on benign paragraphs (${paragraphs.length} values of ~${Math.round(paragraphBytes / paragraphs.length)} bytes)`,
    longRows,
    { ratioOf: 'MB/s (CPU)', note: 'The benign corpus joined 20 lines at a time.' },
  );

  // Worst case: 100 KB values built to trip tokenizers and backtracking regexes.
  const size = QUICK ? 20 * 1024 : 100 * 1024;
  const repeat = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  const adversarial = [
    repeat("'"),
    repeat("' OR '"),
    `${repeat('(')}1`,
    repeat('/*'),
    repeat('<a '),
    repeat('<!--'),
    repeat('<x onload='),
    repeat('%25'),
    repeat('../'),
    repeat(';|&'),
    repeat('`'),
    repeat('&#'),
    repeat('+ADw-'),
    repeat(`'"<>;|&$(){}[]%\\/*-#=`),
    `${'a'.repeat(size - 2)}!`,
    repeat('x='),
  ];
  const worst = (fn: (value: string) => unknown) => {
    let max = 0;
    let total = 0;
    for (const value of adversarial) {
      const started = performance.now();
      fn(value);
      const elapsed = performance.now() - started;
      max = Math.max(max, elapsed);
      total += elapsed;
    }
    return { 'worst ms': max, 'mean ms': total / adversarial.length };
  };
  printTable(
    `worst case: ${adversarial.length} adversarial values of ${size / 1024} KB`,
    [
      {
        system: 'regex blacklist (4 kinds)',
        metrics: worst((value) => blacklist.some((test) => test(value))),
      },
      { system: 'DOMPurify (xss only)', metrics: worst(purify) },
      { system: '@plat/input-guard scan, low', metrics: worst((value) => scan(value)) },
      {
        system: '@plat/input-guard scan, strict',
        metrics: worst((value) => scan(value, { level: 'strict' })),
      },
      {
        system: '@plat/input-guard checkSafeText',
        metrics: worst((value) => checkSafeText(value, { maxLength: size })),
      },
    ],
    {
      ratioOf: 'worst ms',
      higherIsBetter: false,
      note: 'Wall-clock, one run per value; every regex in @plat/input-guard is proven linear by its tests.',
    },
  );
}
