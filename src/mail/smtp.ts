/**
 * The SMTP rules and transport shared by Runloom's own mail (Mailer) and the workflow email node: one TLS policy
 * (never plaintext) and one set of nodemailer limits for both.
 */
import { createTransport, type Transporter } from 'nodemailer';

/** SMTP settings refused by the TLS rules; the message names the rule, never a value. */
export class SmtpTlsRefused extends Error {}

/**
 * SMTP TLS (docs/contract.md §5.6): `smtpTlsMode` `starttls` or `implicit_tls|implicit|wrapper`, plaintext
 * refused; otherwise the legacy `smtpTls` flag (false refused) with implicit TLS on port 465 and
 * mandatory STARTTLS elsewhere.
 */
export function smtpTlsOptions(
  params: { smtpTlsMode?: unknown; smtpTls?: unknown },
  port: number,
): { secure: boolean; requireTLS: boolean } {
  const mode = typeof params.smtpTlsMode === 'string' ? params.smtpTlsMode.trim().toLowerCase() : '';
  if (mode !== '') {
    if (mode === 'starttls') return { secure: false, requireTLS: true };
    if (mode === 'implicit_tls' || mode === 'implicit' || mode === 'wrapper')
      return { secure: true, requireTLS: false };
    if (mode === 'none' || mode === 'plaintext') {
      throw new SmtpTlsRefused('Plaintext SMTP is not allowed: use STARTTLS or implicit TLS');
    }
    throw new SmtpTlsRefused('Unsupported smtpTlsMode (use starttls or implicit_tls)');
  }
  if (isFalseFlag(params.smtpTls)) {
    throw new SmtpTlsRefused('Plaintext SMTP is not allowed: use STARTTLS or implicit TLS');
  }
  return port === 465 ? { secure: true, requireTLS: false } : { secure: false, requireTLS: true };
}

/** `false`, or that text in any case (the node's flag params accept both). */
function isFalseFlag(value: unknown): boolean {
  return value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'false');
}

export interface SmtpTransportOptions {
  host: string;
  port: number;
  /** The TLS server name when `host` is an address the caller already resolved and vetted. */
  servername?: string;
  tls: { secure: boolean; requireTLS: boolean };
  auth?: { user: string; pass: string };
  /** Each of nodemailer's connection, greeting, socket and DNS timeouts. */
  timeoutMs: number;
  /** TESTS ONLY: accept any server certificate (a local `smtp-server` with its self-signed default). */
  allowInsecureTls: boolean;
}

/** A nodemailer transport that never reads local files or fetches URLs named in a message. */
export function createSmtpTransport(o: SmtpTransportOptions): Transporter {
  return createTransport({
    host: o.host,
    port: o.port,
    ...(o.servername ? { servername: o.servername } : {}),
    secure: o.tls.secure,
    requireTLS: o.tls.requireTLS,
    ...(o.auth ? { auth: o.auth } : {}),
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    dnsTimeout: o.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    ...(o.allowInsecureTls ? { tls: { rejectUnauthorized: false } } : {}),
  });
}
