/**
 * A regression guard on the development corpus (shared/corpora/input-guard/dev beside the
 * repository, or PLAT_GUARD_CORPUS): the default level keeps its measured detection and false
 * positive rates. Skipped, visibly, when the corpus is not on this machine. The full table with
 * baselines is `pnpm bench input-guard`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scan, type ThreatKind } from '../src';

function corpusDir(): string | undefined {
  const candidates = process.env.PLAT_GUARD_CORPUS
    ? [process.env.PLAT_GUARD_CORPUS]
    : [
        resolve(__dirname, '../../../../shared/corpora/input-guard/dev'),
        resolve(__dirname, '../../../../../shared/corpora/input-guard/dev'),
      ];
  return candidates.find((dir) => existsSync(join(dir, 'benign.txt')));
}

const dir = corpusDir();
const lines = (file: string) =>
  readFileSync(join(dir!, file), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);

/** The targets at `low`, all met on the dev corpus: a regression below one fails here. */
const FLOORS: Readonly<Record<ThreatKind, { detection: number; maxFalsePositive: number }>> = {
  sqli: { detection: 97, maxFalsePositive: 0.5 },
  xss: { detection: 99, maxFalsePositive: 0.5 },
  command: { detection: 95, maxFalsePositive: 0.5 },
  path: { detection: 99, maxFalsePositive: 0.5 },
};

(dir === undefined ? describe.skip : describe)(
  `accuracy on the development corpus${dir === undefined ? ' (skipped: no corpus; set PLAT_GUARD_CORPUS)' : ''}`,
  () => {
    const benign = dir === undefined ? [] : lines('benign.txt');
    it.each(Object.entries(FLOORS) as Array<[ThreatKind, (typeof FLOORS)[ThreatKind]]>)(
      '%s at low',
      (kind, floor) => {
        const attacks = lines(`${kind}.txt`);
        const detected = attacks.filter((value) => scan(value, { kinds: [kind] }).length > 0).length;
        const falseAlarms = benign.filter((value) => scan(value, { kinds: [kind] }).length > 0).length;
        expect((100 * detected) / attacks.length).toBeGreaterThanOrEqual(floor.detection);
        expect((100 * falseAlarms) / benign.length).toBeLessThanOrEqual(floor.maxFalsePositive);
      },
    );
  },
);
