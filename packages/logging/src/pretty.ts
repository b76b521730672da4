/**
 * The readable format for local development:
 *   12:04:05.123 INFO  GET /items/:id 200 3.2 ms  request_id=r-1 trace_id=4bf9… http={…}
 * followed by an error's stack, indented, when the line carries one.
 */
import type { LogLevel } from './types';

const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const BOLD = '\u001b[1m';
const LEVEL_COLOURS: Readonly<Record<LogLevel, string>> = {
  fatal: '\u001b[41m\u001b[97m',
  error: '\u001b[31m',
  warn: '\u001b[33m',
  info: '\u001b[32m',
  debug: '\u001b[34m',
  trace: '\u001b[90m',
};

const SKIPPED = new Set(['timestamp', 'level', 'message', 'error']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function stackOf(error: unknown, indent: string): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const { stack, message, name, cause } = error as Record<string, unknown>;
  const head = typeof stack === 'string' ? stack : `${String(name)}: ${String(message)}`;
  const lines = head.split('\n').map((line) => `${indent}${line}`);
  if (cause !== undefined) {
    lines.push(`${indent}[cause]:`);
    if (typeof cause === 'object' && cause !== null && 'message' in cause)
      lines.push(...stackOf(cause, `${indent}  `));
    else lines.push(`${indent}  ${formatValue(cause)}`);
  }
  return lines;
}

/** Renders a JSON-shaped record as one readable line (plus the error's stack, if any). */
export function renderPretty(info: Record<string, unknown>, colors: boolean): string {
  const level = (info.level as LogLevel | undefined) ?? 'info';
  const time = typeof info.timestamp === 'string' ? info.timestamp.slice(11, 23) : '';
  const tag = level.toUpperCase().padEnd(5);
  const paint = (code: string, text: string) => (colors ? `${code}${text}${RESET}` : text);
  const pairs: string[] = [];
  for (const key of Object.keys(info)) {
    if (SKIPPED.has(key) || info[key] === undefined) continue;
    pairs.push(`${paint(DIM, `${key}=`)}${formatValue(info[key])}`);
  }
  let line = `${paint(DIM, time)} ${paint(LEVEL_COLOURS[level] ?? '', tag)} ${paint(BOLD, String(info.message ?? ''))}`;
  if (pairs.length > 0) line += `  ${pairs.join(' ')}`;
  if (info.error !== undefined) line += `\n${stackOf(info.error, '    ').join('\n')}`;
  return line;
}
