import { Injectable } from '@nestjs/common';
import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

/**
 * scrypt (memory-hard, built into Node: no native addon to build). The parameters are stored in
 * each hash, so raising PASSWORD_SCRYPT_LOG_N later keeps old hashes verifiable.
 * Format: `scrypt$<logN>$<r>$<p>$<salt b64>$<key b64>`.
 */
@Injectable()
export class PasswordHasher {
  private readonly logN: number;
  private dummyHash: Promise<string> | null = null;

  constructor(config: AppConfig) {
    this.logN = config.auth.scryptLogN;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await scryptAsync(password, salt, KEY_LENGTH, this.options(this.logN, BLOCK_SIZE, PARALLELISM));
    return ['scrypt', this.logN, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, logN, r, p, salt, key] = stored.split('$');
    if (scheme !== 'scrypt' || !key) return false;
    const expected = Buffer.from(key, 'base64');
    const actual = await scryptAsync(
      password,
      Buffer.from(salt, 'base64'),
      expected.length,
      this.options(Number(logN), Number(r), Number(p)),
    );
    return timingSafeEqual(actual, expected);
  }

  /** Spends the same work as a real check, so "no such email" is not faster than "wrong password". */
  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash(randomBytes(16).toString('hex'));
    await this.verify(password, await this.dummyHash);
    return false;
  }

  private options(logN: number, r: number, p: number): ScryptOptions {
    const N = 2 ** logN;
    return { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 };
  }
}
