import type { IncomingMessage } from 'node:http';
import { CoreError } from './errors';

/** Bodies the bridges read themselves are capped, so a huge upload cannot exhaust memory. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/**
 * Reads and parses a JSON request body from the raw stream, for frameworks where no body parser ran.
 * An empty body is `undefined`; invalid JSON, a non-JSON content type or an oversized body is a
 * typed `CoreError`.
 *
 * @example
 * ```ts
 * const body = await readJsonBody(req, 64 * 1024);
 * ```
 */
export async function readJsonBody(
  req: IncomingMessage,
  limitBytes = DEFAULT_BODY_LIMIT_BYTES,
): Promise<unknown> {
  // A body parser (or an earlier read) already consumed the stream: there is nothing left to read.
  if (req.readableEnded) return undefined;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new CoreError('BODY_TOO_LARGE', `Request body exceeds ${limitBytes} bytes`, {
      details: { limitBytes },
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      throw new CoreError('BODY_TOO_LARGE', `Request body exceeds ${limitBytes} bytes`, {
        details: { limitBytes },
      });
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new CoreError('INVALID_BODY', 'Request body must be JSON (Content-Type: application/json)');
  }
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch (cause) {
    throw new CoreError('INVALID_BODY', 'Request body is not valid JSON', { cause });
  }
}
