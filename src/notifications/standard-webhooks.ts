import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signing as the Standard Webhooks specification says (standardwebhooks.com): a secret is
 * `whsec_` + base64 of random bytes; a signature is `v1,` + base64 of HMAC-SHA256, keyed by the
 * secret's bytes, over `<webhook-id>.<webhook-timestamp>.<body>`; several are space-separated.
 */
const PREFIX = 'whsec_';

/** A new endpoint secret: 32 random bytes. */
export function newSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The `webhook-signature` header for `body`, one signature per secret (in order). */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

/** The `webhook-id` of a message: stable across its attempts. */
export const messageId = (deliveryId: string) => `msg_${deliveryId.replace(/-/g, '')}`;
