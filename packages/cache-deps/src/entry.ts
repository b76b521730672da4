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
  return from === to ? undefined : Number(text.slice(from, to));
}

/** The entry in `text`, or undefined when it is not in this format (written by something else). */
export function decodeEntry(text: string): DecodedEntry | undefined {
  if (text.charCodeAt(0) !== 49 || text.charCodeAt(1) !== SEP) return undefined; // '1|'
  const a = 1;
  const b = text.indexOf('|', a + 1);
  const c = b === -1 ? -1 : text.indexOf('|', b + 1);
  const d = c === -1 ? -1 : text.indexOf('|', c + 1);
  const e = d === -1 ? -1 : text.indexOf('|', d + 1);
  if (e === -1) return undefined;
  const createdAt = parseField(text, a + 1, b);
  const expiresAt = parseField(text, b + 1, c);
  const staleUntil = parseField(text, c + 1, d);
  const computeMs = parseField(text, d + 1, e);
  // Number('') never reaches here (empty fields are undefined); NaN means a damaged header.
  if (
    createdAt === undefined ||
    Number.isNaN(createdAt + (expiresAt ?? 0) + (staleUntil ?? 0) + (computeMs ?? 0))
  ) {
    return undefined;
  }
  return { createdAt, expiresAt, staleUntil, computeMs, payload: text.slice(e + 1) };
}
