import { createHmac } from 'crypto';
import {
  deriveSigningKey,
  deriveWebhookToken,
  matchSignature,
  safeEqual,
  signWebhook,
  timestampFresh,
  uuidBytes,
} from './webhook-crypto';

const SECRET = '0123456789abcdefghijklmnopqrstuvwxyz-test-secret';
const OWNER = '11111111-2222-4333-8444-555555555555';
const WORKFLOW = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const SALT = 'bbbbbbbb-cccc-4ddd-aeee-ffffffffffff';
const OTHER_SALT = 'bbbbbbbb-cccc-4ddd-aeee-fffffffffff0';
const BASE64URL_43 = /^[A-Za-z0-9_-]{43}$/;

describe('uuidBytes', () => {
  it('returns the 16 bytes in written (RFC 4122 big-endian) order', () => {
    expect(uuidBytes('00112233-4455-6677-8899-aabbccddeeff').toString('hex')).toBe('00112233445566778899aabbccddeeff');
    expect(uuidBytes('123E4567-E89B-12D3-A456-426614174000')).toEqual(
      Buffer.from([0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00]),
    );
  });

  it.each(['', 'not-a-uuid', '00112233445566778899aabbccddeeff', '00112233-4455-6677-8899-aabbccddeefg'])(
    'rejects %j',
    (value) => {
      expect(() => uuidBytes(value)).toThrow('Invalid UUID');
    },
  );
});

describe('deriveWebhookToken / deriveSigningKey', () => {
  it('match known answers (checked independently with Python hmac)', () => {
    expect(deriveWebhookToken(SECRET, OWNER, WORKFLOW, SALT)).toBe('MOvvlWaseic0hbp16hkBOsWunkvGc_Kh1qAswbi-Iro');
    expect(deriveSigningKey(SECRET, OWNER, WORKFLOW, SALT)).toBe('_kJvnaoUbUAO-CFkIVGc9g28NzzWcrRj--ORWwlCSPE');
  });

  it('are HMAC-SHA256 over owner ‖ workflow ‖ salt (‖ "signing") keyed with the secret text', () => {
    const material = Buffer.concat([uuidBytes(OWNER), uuidBytes(WORKFLOW), uuidBytes(SALT)]);
    const hmac = (data: Buffer) => createHmac('sha256', SECRET).update(data).digest('base64url');
    expect(deriveWebhookToken(SECRET, OWNER, WORKFLOW, SALT)).toBe(hmac(material));
    expect(deriveSigningKey(SECRET, OWNER, WORKFLOW, SALT)).toBe(
      hmac(Buffer.concat([material, Buffer.from('signing')])),
    );
  });

  it('are deterministic, 43 base64url characters without padding, and differ from each other', () => {
    const token = deriveWebhookToken(SECRET, OWNER, WORKFLOW, SALT);
    const key = deriveSigningKey(SECRET, OWNER, WORKFLOW, SALT);
    expect(deriveWebhookToken(SECRET, OWNER, WORKFLOW, SALT)).toBe(token);
    expect(deriveSigningKey(SECRET, OWNER, WORKFLOW, SALT)).toBe(key);
    expect(token).toMatch(BASE64URL_43);
    expect(key).toMatch(BASE64URL_43);
    expect(token).not.toBe(key);
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
  });

  it('change together when any input changes (rotation = new salt)', () => {
    const derive = (secret: string, owner: string, workflow: string, salt: string) => [
      deriveWebhookToken(secret, owner, workflow, salt),
      deriveSigningKey(secret, owner, workflow, salt),
    ];
    const [token, key] = derive(SECRET, OWNER, WORKFLOW, SALT);
    for (const [t, k] of [
      derive(SECRET, OWNER, WORKFLOW, OTHER_SALT),
      derive(SECRET, WORKFLOW, OWNER, SALT),
      derive(`${SECRET}!`, OWNER, WORKFLOW, SALT),
    ]) {
      expect(t).not.toBe(token);
      expect(k).not.toBe(key);
    }
  });

  it('ignore UUID letter case', () => {
    expect(deriveWebhookToken(SECRET, OWNER, WORKFLOW.toUpperCase(), SALT.toUpperCase())).toBe(
      deriveWebhookToken(SECRET, OWNER, WORKFLOW, SALT),
    );
  });
});

describe('signWebhook', () => {
  const key = deriveSigningKey(SECRET, OWNER, WORKFLOW, SALT);

  it('is lowercase hex HMAC-SHA256 keyed with the decoded key bytes over "<ts>.<canonical>"', () => {
    const sut = signWebhook(key, '1764000000', '{"a":1}');
    expect(sut).toMatch(/^[0-9a-f]{64}$/);
    expect(sut).toBe(createHmac('sha256', Buffer.from(key, 'base64url')).update('1764000000.{"a":1}').digest('hex'));
    expect(sut).not.toBe(createHmac('sha256', key).update('1764000000.{"a":1}').digest('hex'));
  });

  it('signs "<ts>." for an empty body and depends on ts and body', () => {
    const empty = signWebhook(key, '1764000000', '');
    expect(empty).toBe(createHmac('sha256', Buffer.from(key, 'base64url')).update('1764000000.').digest('hex'));
    expect(signWebhook(key, '1764000001', '')).not.toBe(empty);
    expect(signWebhook(key, '1764000000', '{}')).not.toBe(empty);
  });

  it('hashes non-ASCII bodies as UTF-8', () => {
    expect(signWebhook(key, '1', '"é"')).toBe(
      createHmac('sha256', Buffer.from(key, 'base64url')).update(Buffer.from('1."é"', 'utf8')).digest('hex'),
    );
  });
});

describe('matchSignature', () => {
  const expected = signWebhook(deriveSigningKey(SECRET, OWNER, WORKFLOW, SALT), '1764000000', '{}');
  const other = signWebhook(deriveSigningKey(SECRET, OWNER, WORKFLOW, OTHER_SALT), '1764000000', '{}');

  it.each([
    ['v1= prefixed', () => `v1=${expected}`],
    ['bare hex', () => expected],
    ['valid one after a stale one', () => `v1=${other} v1=${expected}`],
    ['valid one first', () => `${expected} v1=${other}`],
    ['extra spaces and tabs', () => `  v1=${other} \t ${expected}  `],
  ])('accepts %s and returns the provided signature', (_name, header) => {
    expect(matchSignature(header(), expected)).toBe(expected);
  });

  it.each([
    ['an empty header', () => ''],
    ['another key', () => `v1=${other}`],
    ['uppercase hex', () => expected.toUpperCase()],
    ['uppercase hex with prefix', () => `v1=${expected.toUpperCase()}`],
    ['an uppercase prefix', () => `V1=${expected}`],
    ['a different scheme', () => `v0=${expected}`],
    ['a truncated signature', () => expected.slice(0, 63)],
    ['a longer signature', () => `${expected}0`],
    ['a comma-separated list', () => `v1=${other},v1=${expected}`],
    ['garbage', () => 'not a signature at all'],
    ['a bare prefix', () => 'v1='],
  ])('rejects %s', (_name, header) => {
    expect(matchSignature(header(), expected)).toBeNull();
  });

  it('never matches an empty expected value', () => {
    expect(matchSignature('v1=', '')).toBeNull();
    expect(matchSignature('', '')).toBeNull();
  });
});

describe('safeEqual', () => {
  it('compares whole strings', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abc', 'ABC')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
  });
});

describe('timestampFresh', () => {
  const nowMs = 1_764_000_000_500;
  const window = 300;

  it.each([
    ['now', '1764000000'],
    ['at the past edge of the window', '1763999700'],
    ['at the future edge of the window', '1764000300'],
    ['with leading zeros', '01764000000'],
  ])('accepts a timestamp %s', (_name, ts) => {
    expect(timestampFresh(ts, nowMs, window)).toBe(true);
  });

  it.each([
    ['just past the window', '1763999699'],
    ['just ahead of the window', '1764000301'],
    ['in milliseconds', '1764000000500'],
    ['zero', '0'],
    ['negative', '-1764000000'],
    ['with a plus sign', '+1764000000'],
    ['fractional', '1764000000.5'],
    ['with spaces', ' 1764000000'],
    ['in exponent form', '1.764e9'],
    ['hexadecimal', '0x6923f280'],
    ['empty', ''],
    ['absurdly long', '9'.repeat(400)],
  ])('rejects a timestamp %s', (_name, ts) => {
    expect(timestampFresh(ts, nowMs, window)).toBe(false);
  });

  it('uses whole seconds of now (floor), like a Unix clock', () => {
    expect(timestampFresh('1763999700', 1_764_000_000_999, 300)).toBe(true);
    expect(timestampFresh('1763999700', 1_764_000_001_000, 300)).toBe(false);
  });
});
