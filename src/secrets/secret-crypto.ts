import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Never carries the stored value or the plaintext: the message is safe to log. */
export class SecretDecryptionError extends Error {
  constructor(message = 'Failed to decrypt secret') {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/** AES-256-GCM with a 32-byte key. Stored format `enc:<base64(nonce12 ‖ ciphertext ‖ tag16)>` (docs/contract.md §9.1). `aad` (e.g. `${userId}:${group}:${service}:${name}`) is authenticated so a ciphertext moved to another row fails to decrypt. */
export class SecretCrypto {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new Error('API_SECRETS_ENCRYPTION_KEY must be 32 bytes');
    }
    // Own copy: a caller zeroing or reusing its buffer must not change our key.
    this.key = Buffer.from(key);
  }

  encrypt(plaintext: string, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64');
  }

  /** Throws SecretDecryptionError on a wrong key, tampering, wrong aad or malformed input. A value without the `enc:` prefix is legacy plaintext and is returned as is. */
  decrypt(stored: string, aad: string): string {
    if (!this.isEncrypted(stored)) return stored;
    const encoded = stored.slice(PREFIX.length);
    if (!BASE64.test(encoded)) throw new SecretDecryptionError('Malformed encrypted secret');
    const raw = Buffer.from(encoded, 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretDecryptionError('Malformed encrypted secret');
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, raw.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plaintext = Buffer.concat([
        decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plaintext.toString('utf8');
    } catch {
      throw new SecretDecryptionError();
    }
  }

  isEncrypted(stored: string): boolean {
    return typeof stored === 'string' && stored.startsWith(PREFIX);
  }
}
