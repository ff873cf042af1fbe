/**
 * SMTP through nodemailer, once `ctx.http` has vetted the connection by the egress policy
 * (`vetConnection`): to the vetted address with the host as TLS server name, so DNS is asked once. A
 * client that cannot vet connections sends no SMTP at all.
 */
import { connectionGuardOf, type VettedConnection } from '../../../egress/guarded-outbound-http';
import { OutboundError } from '../../../egress/outbound-http';
import { createSmtpTransport, smtpTlsOptions, SmtpTlsRefused } from '../../../mail/smtp';
import { NodeError } from '../../node-types';
import { outboundOrigin } from '../../outbound';
import type { EmailNodeParams } from '../email.node';
import { recipients, required, sender, type Delivery } from './shared';

/** `allowInsecureTls`: tests only, see `EmailNodeOptions`. */
export async function sendSmtp(s: Delivery, allowInsecureTls: boolean): Promise<Record<string, unknown>> {
  const { params } = s;
  const host = required(params, 'smtpHost').trim();
  const port = smtpPort(params.smtpPort);
  const user = required(params, 'smtpUser');
  const pass = required(params, 'smtpPassword');
  const from = sender(required(params, 'from'));
  const to = recipients(params.to);
  const tls = nodeTlsOptions(params, port);

  const target = await vetSmtp(s, host, port);
  if (s.ctx.signal.aborted) throw new NodeError('Email sending aborted');

  const transport = createSmtpTransport({
    // The vetted address, never the name: nodemailer must not resolve it again (DNS rebinding).
    host: target.address,
    port,
    ...(target.servername ? { servername: target.servername } : {}),
    tls,
    auth: { user, pass },
    timeoutMs: s.timeoutMs,
    allowInsecureTls,
  });
  // nodemailer closes the connection itself when the signal aborts; closing here frees the transport.
  const onAbort = () => transport.close();
  s.ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await transport.sendMail({ from: from.text, to, subject: s.subject, text: s.body, signal: s.ctx.signal });
  } catch (err) {
    throw smtpError(err, s.ctx.signal);
  } finally {
    s.ctx.signal.removeEventListener('abort', onAbort);
    transport.close();
  }
  return { sent: true, service: 'SMTP', recipient_count: to.length };
}

function smtpPort(raw: EmailNodeParams['smtpPort']): number {
  if (raw === undefined || raw === null || raw === '') throw new NodeError('smtpPort is required');
  const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new NodeError('smtpPort must be a port number (1-65535)');
  }
  return n;
}

/** The TLS rules of src/mail, refusals as node errors. */
function nodeTlsOptions(params: EmailNodeParams, port: number): { secure: boolean; requireTLS: boolean } {
  try {
    return smtpTlsOptions(params, port);
  } catch (err) {
    throw err instanceof SmtpTlsRefused ? new NodeError(err.message) : err;
  }
}

/**
 * The SMTP connection as the egress client vets it (same policy as HTTP; a block is recorded in the
 * block log and fails the node with `{"error":"egress_blocked",…}` naming host and reason). Bounded by
 * the node timeout and the run signal, as nodemailer's own lookup was.
 */
async function vetSmtp(s: Delivery, host: string, port: number): Promise<VettedConnection> {
  const guard = connectionGuardOf(s.ctx.http);
  if (!guard) throw new NodeError('SMTP is unavailable: the outbound client cannot apply the egress policy to it');
  if (s.ctx.signal.aborted) throw new NodeError('Email sending aborted');
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NodeError('SMTP host lookup timed out')), s.timeoutMs);
    onAbort = () => reject(new NodeError('Email sending aborted'));
    s.ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  const vetting = guard.vetConnection({ protocol: 'smtp', host, port, origin: outboundOrigin(s.ctx, s.node) });
  vetting.catch(() => undefined);
  try {
    return await Promise.race([vetting, stopped]);
  } catch (err) {
    if (err instanceof OutboundError) throw new NodeError(err.message);
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) s.ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** nodemailer's error codes carry the kind of failure; the server reply (never our params) adds detail. */
function smtpError(err: unknown, signal: AbortSignal): NodeError {
  if (err instanceof NodeError) return err;
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; response?: unknown };
  if (signal.aborted || e.code === 'EABORT') return new NodeError('Email sending aborted');
  const reasons: Record<string, string> = {
    ETIMEDOUT: 'connection timed out',
    ECONNECTION: 'connection failed',
    ESOCKET: 'connection failed',
    EDNS: 'host lookup failed',
    ETLS: 'TLS negotiation failed',
    EAUTH: 'authentication failed',
    ENOAUTH: 'authentication failed',
    EENVELOPE: 'recipient or sender rejected',
    EMESSAGE: 'message rejected',
    EPROTOCOL: 'unexpected server response',
  };
  const reason = (typeof e.code === 'string' && reasons[e.code]) || 'sending failed';
  const reply = typeof e.response === 'string' ? e.response.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  const code = typeof e.responseCode === 'number' ? ` (${e.responseCode})` : '';
  return new NodeError(`SMTP ${reason}${code}${reply !== '' ? `: ${reply}` : ''}`);
}
