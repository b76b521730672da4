#!/usr/bin/env node
/**
 * `plat-guard scan [--kinds sqli,xss,command,path] [--level low|balanced|strict]`
 * Reads one value per line on stdin and writes one JSON line per input:
 * `{"input_index":0,"threats":[{"kind":"sqli","rule":"sqli.union",…}]}`. Threats carry spans and
 * rule codes, never the input. Exit code 0; 2 for bad arguments.
 */
import { createInterface } from 'node:readline';
import { isPlatError } from '@plat/core';
import { decodeViews } from './detect/decode';
import { resolveDetectOptions, resolveKinds, scanViews } from './scan';
import { GUARD_LEVELS, type GuardLevel, THREAT_KINDS, type ThreatKind } from './types';

const USAGE = `Usage: plat-guard scan [--kinds ${THREAT_KINDS.join(',')}] [--level ${GUARD_LEVELS.join('|')}] [--max-decode-rounds N]

Reads one value per line on stdin and writes one JSON line per input:
  {"input_index":0,"threats":[{"kind":"sqli","rule":"sqli.union","reason":"…","span":{"start":0,"end":12},"decoded":false}]}
Values are never echoed. Lines longer than 1 MiB are reported with a "text.too-long" threat.
`;

const MAX_LINE = 1024 * 1024;

interface CliOptions {
  kinds: readonly ThreatKind[];
  level: GuardLevel;
  maxDecodeRounds: number;
}

function parseArgs(argv: readonly string[]): CliOptions | string {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') return USAGE;
  if (command !== 'scan') return `Unknown command ${JSON.stringify(command)}\n\n${USAGE}`;
  let kinds: string[] | undefined;
  let level: string | undefined;
  let rounds: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = inline ?? rest[++i];
    if (flag === '--help' || flag === '-h') return USAGE;
    if (value === undefined) return `Missing value for ${flag}\n\n${USAGE}`;
    if (flag === '--kinds')
      kinds = value
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0);
    else if (flag === '--level') level = value;
    else if (flag === '--max-decode-rounds') rounds = Number(value);
    else return `Unknown option ${flag}\n\n${USAGE}`;
  }
  try {
    const resolved = resolveDetectOptions({
      ...(level === undefined ? {} : { level: level as GuardLevel }),
      ...(rounds === undefined ? {} : { maxDecodeRounds: rounds }),
    });
    return { ...resolved, kinds: resolveKinds(kinds as ThreatKind[] | undefined) };
  } catch (error) {
    if (isPlatError(error)) return `${error.message}\n\n${USAGE}`;
    throw error;
  }
}

/**
 * Runs the CLI over the given streams; resolves with the exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(['scan', '--level', 'strict'], process.stdin, process.stdout, process.stderr);
 * ```
 */
export async function runCli(
  argv: readonly string[],
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  const options = parseArgs(argv);
  if (typeof options === 'string') {
    const help = options === USAGE;
    (help ? stdout : stderr).write(options);
    return help ? 0 : 2;
  }
  const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let index = 0;
  for await (const line of lines) {
    const threats =
      line.length > MAX_LINE
        ? [
            {
              kind: null,
              rule: 'text.too-long',
              reason: `The line is longer than ${MAX_LINE} characters`,
              span: { start: 0, end: line.length },
              decoded: false,
            },
          ]
        : scanViews(decodeViews(line, options.maxDecodeRounds), options.kinds, options.level);
    const ok = stdout.write(`${JSON.stringify({ input_index: index, threats })}\n`);
    index++;
    if (!ok) await new Promise<void>((resolve) => stdout.once('drain', () => resolve()));
  }
  return 0;
}

// Run when executed as the `plat-guard` bin, not when imported (tests import runCli).
const invokedAs = process.argv[1] ?? '';
if (/plat-guard$|cli\.(?:c?js|ts)$/.test(invokedAs) && !process.env.JEST_WORKER_ID) {
  runCli(process.argv.slice(2), process.stdin, process.stdout, process.stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`plat-guard: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
