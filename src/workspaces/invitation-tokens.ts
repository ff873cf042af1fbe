import { Injectable } from '@nestjs/common';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { AppConfig } from '../config/app-config';

/** What the client's links carry: 32 lowercase hex characters (128 bits). */
const TOKEN = /^[0-9a-f]{32}$/;

/**
 * Invitation link tokens. A token is derived from the invitation id with a key of its own (HKDF of
 * API_SECRETS_ENCRYPTION_KEY), and only its SHA-256 is stored: the table alone gives out no usable
 * link, while the server can still show the token to the invitee in their own list (the client
 * accepts and declines by token). Changing the key voids the links of pending invitations.
 */
@Injectable()
export class InvitationTokens {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    this.key = Buffer.from(
      hkdfSync('sha256', config.secrets.encryptionKey, Buffer.alloc(0), 'runloom workspace invitation token v1', 32),
    );
  }

  tokenFor(invitationId: string): string {
    return createHmac('sha256', this.key).update(invitationId).digest('hex').slice(0, 32);
  }

  /** The stored form of a token. */
  static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** A token as sent (trimmed, any case), or null when it cannot be one: no lookup is needed. */
  static normalise(raw: string): string | null {
    const token = raw.trim().toLowerCase();
    return TOKEN.test(token) ? token : null;
  }

  /** True when the stored hash is that of the token derived now (false once the key changed). */
  matches(invitationId: string, tokenHash: string): boolean {
    return InvitationTokens.hash(this.tokenFor(invitationId)) === tokenHash;
  }
}
