import { randomBytes } from 'node:crypto';
import { SecretCrypto, SecretDecryptionError } from './secret-crypto';

const AAD = 'user-1:email:smtp:main';
const key = () => randomBytes(32);

/** Flips one bit of the decoded payload at `index` (negative = from the end) and re-encodes it. */
const tamper = (stored: string, index: number): string => {
  const raw = Buffer.from(stored.slice('enc:'.length), 'base64');
  const at = index < 0 ? raw.length + index : index;
  raw[at] = raw[at] ^ 0x01;
  return 'enc:' + raw.toString('base64');
};

describe('SecretCrypto', () => {
  const sut = new SecretCrypto(key());

  describe('round trip', () => {
    it.each([
      ['ascii', 'sk_live_1234567890'],
      ['unicode', 'pässwörd 🔑 秘密 — ñ'],
      ['empty string', ''],
      ['long', 'x'.repeat(100_000) + 'é'.repeat(1000)],
      ['looks like a stored value', 'enc:AAAA'],
    ])('%s', (_label, plaintext) => {
      const stored = sut.encrypt(plaintext, AAD);
      expect(sut.decrypt(stored, AAD)).toBe(plaintext);
    });

    it('writes enc:<base64(nonce12 ‖ ciphertext ‖ tag16)>', () => {
      const stored = sut.encrypt('hello', AAD);
      expect(stored).toMatch(/^enc:[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(stored.slice(4), 'base64')).toHaveLength(12 + 5 + 16);
      expect(sut.isEncrypted(stored)).toBe(true);
    });

    it('decrypts with another instance built from the same key bytes', () => {
      const bytes = key();
      const stored = new SecretCrypto(bytes).encrypt('shared', AAD);
      expect(new SecretCrypto(Buffer.from(bytes)).decrypt(stored, AAD)).toBe('shared');
    });

    it('keeps its own copy of the key', () => {
      const bytes = key();
      const own = new SecretCrypto(bytes);
      const stored = own.encrypt('value', AAD);
      bytes.fill(0);
      expect(own.decrypt(stored, AAD)).toBe('value');
    });
  });

  it('uses a random nonce: two encryptions of the same value differ', () => {
    const a = sut.encrypt('same', AAD);
    const b = sut.encrypt('same', AAD);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(4), 'base64').subarray(0, 12)).not.toEqual(
      Buffer.from(b.slice(4), 'base64').subarray(0, 12),
    );
    expect(sut.decrypt(a, AAD)).toBe('same');
    expect(sut.decrypt(b, AAD)).toBe('same');
  });

  describe('rejects with SecretDecryptionError', () => {
    const stored = sut.encrypt('top secret', AAD);

    it('a wrong key', () => {
      expect(() => new SecretCrypto(key()).decrypt(stored, AAD)).toThrow(SecretDecryptionError);
    });

    it('a wrong aad (ciphertext moved to another row)', () => {
      expect(() => sut.decrypt(stored, 'user-1:email:smtp:other')).toThrow(SecretDecryptionError);
      expect(() => sut.decrypt(stored, 'user-2:email:smtp:main')).toThrow(SecretDecryptionError);
      expect(() => sut.decrypt(stored, '')).toThrow(SecretDecryptionError);
    });

    it.each([
      ['nonce', 0],
      ['ciphertext', 12],
      ['tag', -1],
    ])('a tampered %s byte', (_part, index) => {
      expect(() => sut.decrypt(tamper(stored, index), AAD)).toThrow(SecretDecryptionError);
    });

    it('a truncated value', () => {
      const raw = Buffer.from(stored.slice(4), 'base64');
      expect(() => sut.decrypt('enc:' + raw.subarray(0, raw.length - 1).toString('base64'), AAD)).toThrow(
        SecretDecryptionError,
      );
      expect(() => sut.decrypt('enc:' + raw.subarray(0, 27).toString('base64'), AAD)).toThrow(SecretDecryptionError);
      expect(() => sut.decrypt(stored.slice(0, -4), AAD)).toThrow(SecretDecryptionError);
    });

    it.each([['enc:'], ['enc:not base64!'], ['enc:AAAA'], ['enc:' + 'A'.repeat(37)], ['enc: ' + 'A'.repeat(40)]])(
      'malformed input %p',
      (malformed) => {
        expect(() => sut.decrypt(malformed, AAD)).toThrow(SecretDecryptionError);
      },
    );

    it('without revealing the value in the message', () => {
      expect.assertions(3);
      try {
        new SecretCrypto(key()).decrypt(stored, AAD);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).name).toBe('SecretDecryptionError');
        expect((error as Error).message).not.toContain(stored.slice(4));
      }
    });
  });

  it('passes legacy plaintext (no enc: prefix) through unchanged', () => {
    for (const legacy of ['plain-api-key', '', 'ENC:abc', ' enc:abc', 'encrypted']) {
      expect(sut.isEncrypted(legacy)).toBe(false);
      expect(sut.decrypt(legacy, AAD)).toBe(legacy);
    }
  });

  it.each([[0], [16], [31], [33], [64]])('refuses a %i-byte key', (length) => {
    expect(() => new SecretCrypto(Buffer.alloc(length))).toThrow(
      new Error('API_SECRETS_ENCRYPTION_KEY must be 32 bytes'),
    );
  });

  it('refuses a key that is not a Buffer', () => {
    expect(() => new SecretCrypto('a'.repeat(32) as unknown as Buffer)).toThrow(
      'API_SECRETS_ENCRYPTION_KEY must be 32 bytes',
    );
  });
});
