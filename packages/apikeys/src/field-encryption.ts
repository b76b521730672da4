/**
 * Optional AES-256-GCM encryption of key metadata (name, metadata) and, only when explicitly
 * enabled, of a recoverable copy of the secret. Each value is bound to its key id and field through
 * the additional authenticated data, so a ciphertext copied onto another row fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ApiKeyError } from './errors';

/** One data-encryption key: an id stored with each ciphertext, and 32 bytes. */
export interface EncryptionKey {
  /** Short stable id (`k1`), stored with every ciphertext made with this key. */
  readonly id: string;
  /** 32 bytes, or a base64 / base64url string of 32 bytes. */
  readonly key: Uint8Array | string;
}

const VERSION = 'e1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Encrypts with the first key; decrypts with whichever key id the ciphertext names. */
export class FieldCipher {
  readonly #current: string;
  readonly #keys: Map<string, Buffer>;

  constructor(keys: readonly EncryptionKey[]) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new ApiKeyError('INVALID_OPTIONS', 'encryption.keys must list at least one { id, key }');
    }
    this.#keys = new Map();
    for (const entry of keys) {
      if (typeof entry?.id !== 'string' || !KEY_ID.test(entry.id)) {
        throw new ApiKeyError(
          'INVALID_OPTIONS',
          'encryption.keys[].id must be 1-32 characters of [A-Za-z0-9_-]',
        );
      }
      const bytes =
        typeof entry.key === 'string'
          ? Buffer.from(entry.key, 'base64')
          : entry.key instanceof Uint8Array
            ? Buffer.from(entry.key)
            : undefined;
      if (bytes === undefined || bytes.length !== 32) {
        throw new ApiKeyError(
          'INVALID_OPTIONS',
          `encryption key "${entry.id}" must be 32 bytes (or their base64), for AES-256-GCM`,
        );
      }
      if (this.#keys.has(entry.id)) {
        throw new ApiKeyError('INVALID_OPTIONS', `encryption key id "${entry.id}" is listed twice`);
      }
      this.#keys.set(entry.id, bytes);
    }
    this.#current = keys[0]!.id;
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#current)!, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, data, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return `${VERSION}.${this.#current}.${parts.join('.')}`;
  }

  decrypt(stored: string, context: string): string {
    const [version, keyId, iv, data, tag] = stored.split('.');
    const key = keyId === undefined ? undefined : this.#keys.get(keyId);
    if (version !== VERSION || key === undefined || iv === undefined || data === undefined || !tag) {
      throw new ApiKeyError(
        'INVALID_STATE',
        `A stored value is encrypted with an unknown format or key id "${keyId ?? ''}"; add the key to encryption.keys`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch (cause) {
      throw new ApiKeyError(
        'INVALID_STATE',
        'A stored value failed authentication (wrong key or tampered row)',
        {
          cause,
        },
      );
    }
  }
}
