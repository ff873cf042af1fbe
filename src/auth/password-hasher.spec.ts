import { AppConfig } from '../config/app-config';
import { PasswordHasher } from './password-hasher';

const hasher = (logN: number) => new PasswordHasher({ auth: { scryptLogN: logN } } as AppConfig);

describe('PasswordHasher (scrypt)', () => {
  it('verifies the right password and rejects others', async () => {
    const sut = hasher(10);
    const hash = await sut.hash('correct horse');
    expect(hash).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await sut.verify('correct horse', hash)).toBe(true);
    expect(await sut.verify('correct horse ', hash)).toBe(false);
    expect(await sut.verify('', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    const sut = hasher(10);
    expect(await sut.hash('same')).not.toBe(await sut.hash('same'));
  });

  it('keeps old hashes verifiable after the cost is raised', async () => {
    const old = await hasher(10).hash('pw-123456');
    expect(await hasher(12).verify('pw-123456', old)).toBe(true);
  });

  it('treats malformed stored values as a mismatch, not an error', async () => {
    const sut = hasher(10);
    expect(await sut.verify('x', 'bcrypt$whatever')).toBe(false);
    expect(await sut.verify('x', '')).toBe(false);
  });

  it('spends work on unknown accounts too', async () => {
    expect(await hasher(10).verifyAgainstDummy('anything')).toBe(false);
  });
});
