import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one syscall per 256 ids rather than one per id.
const block = Buffer.alloc(16 * 256);
let offset = block.length;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids generated for
 * events are time-ordered, so the unique index on event ids grows at its right edge instead of
 * splitting pages all over the tree as random (v4) ids do.
 *
 * @example
 * ```ts
 * uuidv7(); // '01933b3e-7c1a-7d4e-9f0a-3c5b2e8d1f40'
 * ```
 */
export function uuidv7(now = Date.now()): string {
  if (offset === block.length) {
    randomFillSync(block);
    offset = 0;
  }
  const b = block.subarray(offset, offset + 16);
  offset += 16;
  b[0] = Math.floor(now / 2 ** 40) & 0xff;
  b[1] = Math.floor(now / 2 ** 32) & 0xff;
  b[2] = (now >>> 24) & 0xff;
  b[3] = (now >>> 16) & 0xff;
  b[4] = (now >>> 8) & 0xff;
  b[5] = now & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
