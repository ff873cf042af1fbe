import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigValidationError, loadConfig } from '../config/app-config';
import { Mailer, MailTransportTuning } from './mailer';

const env = (extra: Record<string, string> = {}) => ({
  DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-mail-')),
  WEBHOOK_SECRET: 'a-strong-test-secret-0123456789-abcdefgh',
  API_SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  ...extra,
});

const problems = (extra: Record<string, string>): string[] => {
  try {
    loadConfig(env(extra));
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
};

describe('mail configuration', () => {
  it('builds links on PUBLIC_URL, else the first FRONTEND_ORIGIN, else localhost:PORT', () => {
    const mailer = (extra: Record<string, string>) => new Mailer(loadConfig(env(extra)), new MailTransportTuning());
    expect(mailer({ PUBLIC_URL: 'https://runloom.example.com/app/' }).link('/verify-email?token=x')).toBe(
      'https://runloom.example.com/app/verify-email?token=x',
    );
    expect(mailer({ FRONTEND_ORIGIN: 'https://fe.example.com, https://other.example.com' }).link('login')).toBe(
      'https://fe.example.com/login',
    );
    expect(mailer({ PORT: '8080' }).link('/signup?invite=abc')).toBe('http://localhost:8080/signup?invite=abc');
  });

  it('refuses settings that cannot work together, without echoing values', () => {
    expect(problems({ SMTP_HOST: 'smtp.example.com' })).toEqual(['SMTP_FROM is required with SMTP_HOST']);
    expect(
      problems({ SMTP_HOST: 'smtp.example.com', SMTP_FROM: 'a@example.com', SMTP_PASSWORD: 'hunter2-secret' }),
    ).toEqual(['SMTP_USER and SMTP_PASSWORD go together']);
    const plaintext = problems({ SMTP_HOST: 'smtp.example.com', SMTP_FROM: 'a@example.com', SMTP_TLS_MODE: 'none' });
    expect(plaintext).toHaveLength(1);
    expect(plaintext[0]).toMatch(/^SMTP_TLS_MODE/);
    expect(problems({ NODE_ENV: 'production', REQUIRE_EMAIL_VERIFICATION: 'true' })).toEqual([
      'REQUIRE_EMAIL_VERIFICATION needs SMTP_HOST in production',
    ]);
    expect(problems({ NODE_ENV: 'development', REQUIRE_EMAIL_VERIFICATION: 'true' })).toEqual([]);
    expect(problems({ SMTP_HOST: 'smtp.example.com', SMTP_FROM: 'Runloom <no-reply@example.com>' })).toEqual([]);
  });
});

describe('Mailer without SMTP', () => {
  const message = {
    to: 'ada@example.com',
    subject: 'Reset your password',
    text: 'Open https://fe.example.com/reset-password/secret-link-token',
  };
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((msg: unknown) => void warnings.push(String(msg)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('outside production logs the message with its link at warn level, so a developer can follow it', async () => {
    const mailer = new Mailer(loadConfig(env()), new MailTransportTuning());
    expect(mailer.enabled).toBe(false);
    await mailer.send(message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('reset-password/secret-link-token');
  });

  it('in production logs only that mail is disabled: the link is a credential', async () => {
    const mailer = new Mailer(loadConfig(env({ NODE_ENV: 'production' })), new MailTransportTuning());
    await mailer.send(message);
    expect(warnings).toEqual(['Mail is disabled (SMTP_HOST is unset): "Reset your password" was not sent']);
  });

  it('sendLater answers at once; settled() waits for the queued messages', async () => {
    const mailer = new Mailer(loadConfig(env()), new MailTransportTuning());
    mailer.sendLater('test', () => Promise.resolve(message));
    mailer.sendLater('nothing', () => Promise.resolve(null));
    expect(warnings).toHaveLength(0);
    await mailer.settled();
    expect(warnings).toHaveLength(1);
  });
});
