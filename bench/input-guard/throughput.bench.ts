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

/**
 * Runs `fn` over every value in several windows of about `ms / WINDOWS` of CPU time each and
 * reports the best window (MB/s of input, µs per value) and the median one. On a shared machine
 * other work only ever slows a window down, so the best is the steadiest estimate of the code's
 * own speed; the median shows what a loaded machine gives.
 */
const WINDOWS = 5;

function measure(values: readonly string[], bytes: number, fn: (value: string) => unknown, ms: number) {
  for (const value of values) fn(value); // warm-up
  const rates: number[] = [];
  for (let window = 0; window < WINDOWS; window++) {
    const start = process.cpuUsage();
    let passes = 0;
    let cpuMs = 0;
    do {
      for (const value of values) fn(value);
      passes++;
      const used = process.cpuUsage(start);
      cpuMs = (used.user + used.system) / 1000;
    } while (cpuMs < ms / WINDOWS);
    rates.push((bytes * passes) / (cpuMs / 1000) / 1e6);
  }
  rates.sort((a, b) => a - b);
  const best = rates[rates.length - 1]!;
  return {
    'MB/s (CPU, best)': best,
    'MB/s (CPU, median)': rates[Math.floor(rates.length / 2)]!,
    'µs/value (best)': bytes / values.length / best,
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
      ratioOf: 'MB/s (CPU, best)',
      note: `MB/s of UTF-8 input from process CPU time, best and median of ${WINDOWS} windows. Values are short (~26 bytes on average), so per-call cost dominates.`,
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
    { ratioOf: 'MB/s (CPU, best)', note: 'The benign corpus joined 20 lines at a time.' },
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
  // Each value runs three times and keeps its fastest run (a shared machine only adds delays);
  // the worst value is then the slowest of those. The regex blacklist, seconds per value, runs once.
  const worst = (fn: (value: string) => unknown, runs = QUICK ? 1 : 3) => {
    let max = 0;
    let total = 0;
    for (const value of adversarial) {
      let fastest = Number.POSITIVE_INFINITY;
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        fn(value);
        fastest = Math.min(fastest, performance.now() - started);
      }
      max = Math.max(max, fastest);
      total += fastest;
    }
    return { 'worst ms': max, 'mean ms': total / adversarial.length };
  };
  printTable(
    `worst case: ${adversarial.length} adversarial values of ${size / 1024} KB`,
    [
      {
        system: 'regex blacklist (4 kinds)',
        metrics: worst((value) => blacklist.some((test) => test(value)), 1),
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
      note: 'Wall-clock, fastest of three runs per value (one for the regex blacklist); every regex in @plat/input-guard is proven linear by its tests.',
    },
  );
}
