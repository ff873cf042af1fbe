import { createHash, createHmac, timingSafeEqual } from 'crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 16 raw bytes of a UUID string (RFC 4122 big-endian order, i.e. the hex digits in written order). */
export function uuidBytes(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new Error('Invalid UUID');
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function idMaterial(ownerId: string, workflowId: string, salt: string): Buffer {
  return Buffer.concat([uuidBytes(ownerId), uuidBytes(workflowId), uuidBytes(salt)]);
}

/** token = base64url_nopad(HMAC_SHA256(utf8(secret), owner[16] ‖ workflow[16] ‖ salt[16])), 43 chars. */
export function deriveWebhookToken(secret: string, ownerId: string, workflowId: string, salt: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(idMaterial(ownerId, workflowId, salt))
    .digest('base64url');
}

/** signing_key = base64url_nopad(HMAC_SHA256(utf8(secret), owner ‖ workflow ‖ salt ‖ "signing")), 43 chars. */
export function deriveSigningKey(secret: string, ownerId: string, workflowId: string, salt: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(idMaterial(ownerId, workflowId, salt))
    .update('signing', 'utf8')
    .digest('base64url');
}

/** Lowercase hex HMAC_SHA256 keyed with the base64url-decoded signing key (not its text) over `${ts}.${canonical}`. */
export function signWebhook(signingKey: string, ts: string, canonical: string): string {
  return createHmac('sha256', Buffer.from(signingKey, 'base64url')).update(`${ts}.${canonical}`, 'utf8').digest('hex');
}

/**
 * The header may carry several space-separated signatures (deviation 29 in docs/deviations.md), each with an optional
 * leading `v1=`. Returns the provided signature (prefix removed) that equals `expected`, or null. Case-sensitive,
 * so uppercase hex never matches.
 */
export function matchSignature(header: string, expected: string): string | null {
  if (expected.length === 0) return null;
  const want = Buffer.from(expected, 'utf8');
  let match: string | null = null;
  for (const part of header.split(/[ \t]+/)) {
    const provided = part.startsWith('v1=') ? part.slice(3) : part;
    const got = Buffer.from(provided, 'utf8');
    // Every candidate is compared so the time taken does not depend on which one matched.
    if (got.length === want.length && timingSafeEqual(got, want) && match === null) match = provided;
  }
  return match;
}

/** Constant-time string equality (for the URL token); digests first so lengths need not match. */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a === b;
}

/** `ts` is Unix seconds written as digits only, > 0, and within `windowSec` of now in either direction. */
export function timestampFresh(ts: string, nowMs: number, windowSec: number): boolean {
  // 15 digits keep the value exact as a JS number and are far beyond any window anyway.
  if (!/^[0-9]{1,15}$/.test(ts)) return false;
  const seconds = Number(ts);
  if (seconds <= 0) return false;
  return Math.abs(Math.floor(nowMs / 1000) - seconds) <= windowSec;
}
