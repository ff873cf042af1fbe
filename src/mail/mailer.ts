import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { AppConfig } from '../config/app-config';
import { createSmtpTransport, smtpTlsOptions } from './smtp';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * TESTS ONLY: accept any SMTP server certificate, so a local `smtp-server` with its self-signed
 * default certificate can be reached over STARTTLS. Production wiring keeps the default.
 */
@Injectable()
export class MailTransportTuning {
  allowInsecureTls = false;
}

const SMTP_TIMEOUT_MS = 15_000;

/**
 * Runloom's own e-mail (verification, password reset, invitations, account deletion), over the
 * SMTP relay of SMTP_HOST with STARTTLS or implicit TLS, never plaintext. Without SMTP_HOST nothing
 * is sent: outside production the message (with its link) is logged at warn level so a developer
 * can follow it; in production only the fact that mail is disabled is logged, since the link is a
 * credential. The SMTP password is never logged.
 */
@Injectable()
export class Mailer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Mailer.name);
  private transport: Transporter | null = null;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    private readonly tuning: MailTransportTuning,
  ) {}

  onApplicationBootstrap(): void {
    if (this.enabled) return;
    this.logger.warn(
      this.config.env === 'production'
        ? 'SMTP_HOST is not set: no e-mail is sent (verification, password reset and invitation links are lost)'
        : 'SMTP_HOST is not set: e-mails are not sent; their text, links included, is logged at warn level instead',
    );
  }

  /** Whether messages actually leave the process (SMTP_HOST is set). */
  get enabled(): boolean {
    return this.config.mail.smtp !== null;
  }

  /** An absolute link into the web client: `link('/verify-email?token=…')`. */
  link(path: string): string {
    return `${this.config.mail.publicUrl}${path.startsWith('/') ? path : `/${path}`}`;
  }

  async send(message: MailMessage): Promise<void> {
    const smtp = this.config.mail.smtp;
    if (!smtp) {
      if (this.config.env === 'production') {
        this.logger.warn(`Mail is disabled (SMTP_HOST is unset): "${message.subject}" was not sent`);
      } else {
        this.logger.warn(
          `Mail is disabled (SMTP_HOST is unset); not sent to ${message.to}: "${message.subject}"\n${message.text}`,
        );
      }
      return;
    }
    // A failure's text names the server's reply, never our credentials.
    await this.smtp().sendMail({ from: smtp.from, ...message });
  }

  /**
   * Composes and sends a message off the request path: the caller answers at once, and the same
   * whether a message goes out or not (`compose` may return null), so neither the answer nor its
   * timing tells whether an address has an account. A failure is only logged.
   */
  sendLater(what: string, compose: () => Promise<MailMessage | null>): void {
    const job: Promise<void> = compose()
      .then((message) => (message ? this.send(message) : undefined))
      .catch((err: unknown) => this.logger.error(`The ${what} e-mail was not sent: ${(err as Error).message}`))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Resolves once every message queued so far by `sendLater` was sent or given up (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Messages being composed or sent finish first (they may still need the database). */
  async onModuleDestroy(): Promise<void> {
    await this.settled();
    this.transport?.close();
    this.transport = null;
  }

  private smtp(): Transporter {
    if (this.transport) return this.transport;
    const smtp = this.config.mail.smtp!;
    this.transport = createSmtpTransport({
      host: smtp.host,
      port: smtp.port,
      tls: smtpTlsOptions(smtp.tlsMode ? { smtpTlsMode: smtp.tlsMode } : {}, smtp.port),
      ...(smtp.user !== null ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
      timeoutMs: SMTP_TIMEOUT_MS,
      allowInsecureTls: this.tuning.allowInsecureTls,
    });
    return this.transport;
  }
}
