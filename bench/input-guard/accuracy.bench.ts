/**
 * Accuracy: per kind and level, the share of the attack list detected and the share of benign
 * text falsely flagged, beside DOMPurify (XSS) and a typical regex blacklist, on the same corpus in
 * the same run. The corpus directory comes from PLAT_GUARD_CORPUS (see corpus.ts), so the same
 * script measures an unseen corpus.
 */
import { GUARD_LEVELS, scan } from '@plat/input-guard';
import { type BenchRow, printTable } from '../harness';
import { domPurifyDetector, type Kind, regexBlacklist } from './baselines';
import { corpusDir, KINDS, readLines } from './corpus';

function rate(
  values: readonly string[],
  flagged: (value: string) => boolean,
): { rate: number; count: number } {
  let count = 0;
  for (const value of values) if (flagged(value)) count++;
  return { rate: values.length === 0 ? 0 : (100 * count) / values.length, count };
}

export default async function run(): Promise<void> {
  const dir = corpusDir();
  if (dir === undefined) {
    console.log(
      'accuracy: skipped, no corpus found (set PLAT_GUARD_CORPUS to a directory with benign.txt and the attack lists)',
    );
    return;
  }
  const benign = readLines(dir, 'benign.txt');
  // Quick mode (CI) keeps every attack but samples the benign text.
  const benignSample = process.env.PLAT_BENCH_QUICK === '1' ? benign.filter((_, i) => i % 10 === 0) : benign;
  const purify = domPurifyDetector();
  for (const kind of KINDS) {
    const attacks = readLines(dir, `${kind}.txt`);
    if (attacks.length === 0) continue;
    const systems: Array<[string, (value: string) => boolean]> = [['regex blacklist', regexBlacklist(kind)]];
    if (kind === 'xss') systems.push(['DOMPurify (sanitising changes it)', purify]);
    for (const level of GUARD_LEVELS) {
      systems.push([
        `@plat/input-guard ${level}${level === 'low' ? ' (default)' : ''}`,
        (value) => scan(value, { kinds: [kind as Kind], level }).length > 0,
      ]);
    }
    const rows: BenchRow[] = systems.map(([system, flagged]) => {
      const detected = rate(attacks, flagged);
      const falseAlarms = rate(benignSample, flagged);
      return {
        system,
        metrics: {
          'detection %': Number(detected.rate.toFixed(2)),
          detected: `${detected.count}/${attacks.length}`,
          'false positives %': Number(falseAlarms.rate.toFixed(2)),
          'false alarms': `${falseAlarms.count}/${benignSample.length}`,
        },
      };
    });
    printTable(`accuracy: ${kind} (${attacks.length} attacks, ${benignSample.length} benign values)`, rows, {
      ratioOf: 'detection %',
      note: `Corpus: ${dir}. Detection is on ${kind}.txt; false positives on benign.txt, with only the ${kind} detector.`,
    });
  }
}
