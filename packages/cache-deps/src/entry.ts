/**
 * How an entry is stored: a short header with its metadata, then the codec's text. One string per
 * entry keeps a read to a single GET.
 *
 *   1|<createdAt>|<expiresAt>|<staleUntil>|<computeMs>|<payload>
 *
 * Times are epoch milliseconds; an empty field means "none". An invalidation leaves a tombstone,
 * `0|<token>`, for a while: it reads as a miss, and its token tells `wrap` that the key changed.
 */

/** Bytes of stored text read to tell a key's version (`1|<createdAt>` or `0|<token>`). */
export const VERSION_BYTES = 48;

/** True for the tombstone an invalidation leaves in place of an entry. */
export function isTombstone(text: string): boolean {
  return text.charCodeAt(0) === 48 && text.charCodeAt(1) === 124; // '0|'
}

/**
 * The version of a key from the head of its stored text (`1|<createdAt>` for an entry, the whole
 * tombstone otherwise) and its generation token: what the stores' write checks compare.
 */
export function versionOf(head: string, generation: string): string {
  let version = head;
  if (head.startsWith('1|')) {
    const end = head.indexOf('|', 2);
    if (end !== -1) version = head.slice(0, end);
  }
  return `${version}#${generation}`;
}

export interface EntryMeta {
  createdAt: number;
  expiresAt: number | undefined;
  staleUntil: number | undefined;
  computeMs: number | undefined;
}

export interface DecodedEntry extends EntryMeta {
  payload: string;
}

const VERSION = '1|';
const SEP = 124; // '|'

function field(value: number | undefined): string {
  return value === undefined ? '' : String(Math.round(value));
}

export function encodeEntry(meta: EntryMeta, payload: string): string {
  return `${VERSION}${field(meta.createdAt)}|${field(meta.expiresAt)}|${field(meta.staleUntil)}|${field(meta.computeMs)}|${payload}`;
}

function parseField(text: string, from: number, to: number): number | undefined {
  if (from === to) return undefined;
  const value = Number(text.slice(from, to));
  return Number.isFinite(value) ? value : Number.NaN;
}

/** The entry in `text`, or undefined when it is not in this format (written by something else). */
export function decodeEntry(text: string): DecodedEntry | undefined {
  if (!text.startsWith(VERSION)) return undefined;
  const bounds: number[] = [1];
  for (let i = 2, found = 0; found < 4 && i < text.length; i++) {
    if (text.charCodeAt(i) === SEP) {
      bounds.push(i);
      found++;
    }
  }
  if (bounds.length !== 5) return undefined;
  const [a, b, c, d, e] = bounds as [number, number, number, number, number];
  const createdAt = parseField(text, a + 1, b);
  const expiresAt = parseField(text, b + 1, c);
  const staleUntil = parseField(text, c + 1, d);
  const computeMs = parseField(text, d + 1, e);
  if (
    createdAt === undefined ||
    Number.isNaN(createdAt) ||
    Number.isNaN(expiresAt) ||
    Number.isNaN(staleUntil) ||
    Number.isNaN(computeMs)
  )
    return undefined;
  return { createdAt, expiresAt, staleUntil, computeMs, payload: text.slice(e + 1) };
}
