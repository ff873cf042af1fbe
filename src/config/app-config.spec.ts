import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigValidationError, loadConfig } from './app-config';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-config-'));
const secrets = {
  WEBHOOK_SECRET: 'a-strong-test-secret-0123456789-abcdefgh',
  API_SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

describe('loadConfig', () => {
  it('applies defaults: port 3000, SQLite under DATA_DIR, all roles', () => {
    const dir = tmp();
    const config = loadConfig({ DATA_DIR: dir, ...secrets });
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({
      type: 'sqlite',
      path: path.join(dir, 'runloom.sqlite'),
      migrationsRun: true,
      busyTimeoutMs: 5000,
    });
    expect([...config.roles]).toEqual(['api', 'worker', 'scheduler']);
    expect(config.rateLimit).toEqual({ perSecond: 200, burst: 400, authPerMinute: 30, authBurst: 10 });
    expect(config.auth.cookieSecure).toBe(false);
  });

  it('selects PostgreSQL from DATABASE_URL', () => {
    const config = loadConfig({ DATA_DIR: tmp(), DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', ...secrets });
    expect(config.database).toMatchObject({ type: 'postgres', url: 'postgres://u@127.0.0.1:5432/db' });
  });

  it('PLAN_LIMITS is saas or off; off lifts the seat limit', () => {
    expect(loadConfig({ DATA_DIR: tmp(), ...secrets }).plans.limits).toBe('saas');
    const off = loadConfig({ DATA_DIR: tmp(), PLAN_LIMITS: 'off', ...secrets });
    expect(off.plans.limits).toBe('off');
    expect(off.workspaces.memberLimit).toBe(Infinity);
    expect(() => loadConfig({ DATA_DIR: tmp(), PLAN_LIMITS: 'none', ...secrets })).toThrow(
      /PLAN_LIMITS must be saas or off/,
    );
  });

  it('OTEL_TRACES_EXPORTER names the trace exporters (off by default); OTEL_SDK_DISABLED wins', () => {
    const exporters = (env: Record<string, string>) =>
      loadConfig({ DATA_DIR: tmp(), ...secrets, ...env }).traceExporters;
    expect(exporters({})).toEqual([]);
    expect(exporters({ OTEL_TRACES_EXPORTER: 'none' })).toEqual([]);
    expect(exporters({ OTEL_TRACES_EXPORTER: ' OTLP , console ' })).toEqual(['otlp', 'console']);
    expect(exporters({ OTEL_TRACES_EXPORTER: 'otlp,none' })).toEqual([]);
    expect(exporters({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toEqual([]);
    expect(() => exporters({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /OTEL_TRACES_EXPORTER must be otlp, console or none/,
    );
  });

  it('treats blank values as unset', () => {
    const config = loadConfig({ DATA_DIR: tmp(), PORT: '', LOG_LEVEL: '  ', ...secrets });
    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe('info');
  });

  it('names every invalid variable in one error, without echoing values', () => {
    let error: unknown;
    try {
      loadConfig({
        DATA_DIR: tmp(),
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        RATE_LIMIT_BURST: '-1',
        FRONTEND_ORIGIN: 'not a url',
        RUNLOOM_ROLES: 'api,cook',
        AUTH_COOKIE_SECURE: 'maybe',
        WEBHOOK_SECRET: 'short-secret-value',
        API_SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    for (const name of [
      'PORT',
      'LOG_LEVEL',
      'RATE_LIMIT_BURST',
      'FRONTEND_ORIGIN',
      'RUNLOOM_ROLES',
      'AUTH_COOKIE_SECURE',
      'WEBHOOK_SECRET',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('short-secret-value');
    expect((error as ConfigValidationError).problems).toHaveLength(7);
  });

  it('says a number is not a number before any range rule', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ DATA_DIR: tmp(), ...secrets, ...env });
      } catch (e) {
        return (e as ConfigValidationError).problems;
      }
      return [];
    };
    expect(problems({ PORT: 'abc' })).toEqual(['PORT is not a number']);
    expect(problems({ PORT: '80.5' })).toEqual(['PORT must be a whole number']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT must not be greater than 65535']);
    expect(problems({ AUTH_COOKIE_SECURE: 'maybe' })).toEqual(['AUTH_COOKIE_SECURE must be true or false']);
  });

  it('rejects weak webhook secrets (docs/contract.md §6.1) without echoing them', () => {
    const weak = (secret: string) => () => loadConfig({ DATA_DIR: tmp(), ...secrets, WEBHOOK_SECRET: secret });
    expect(weak('ab'.repeat(20))).toThrow(/WEBHOOK_SECRET .*8 distinct/);
    expect(weak('please-changeme-0123456789abcdefghij')).toThrow(/WEBHOOK_SECRET .*changeme/i);
    expect(weak('short')).toThrow(/WEBHOOK_SECRET/);
    expect(weak('short')).not.toThrow(/short/);
  });

  it('requires the secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: tmp() })).toThrow(
      /WEBHOOK_SECRET is required in production.*API_SECRETS_ENCRYPTION_KEY is required in production/,
    );
    const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: tmp(), ...secrets });
    expect(config.secrets.generatedAt).toBeNull();
    expect(config.auth.cookieSecure).toBe(true);
  });

  it('outside production generates the secrets once and reuses them', () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.secrets.generatedAt).toBe(path.join(dir, 'secrets.json'));
    expect(first.secrets.webhookSecret).toHaveLength(43);
    expect(first.secrets.encryptionKey).toHaveLength(32);
    expect(second.secrets.webhookSecret).toBe(first.secrets.webhookSecret);
    expect(second.secrets.encryptionKey.equals(first.secrets.encryptionKey)).toBe(true);
    expect(fs.statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('parses CORS origins and trust proxy', () => {
    const config = loadConfig({
      DATA_DIR: tmp(),
      FRONTEND_ORIGIN: 'http://localhost:5173/, https://app.example.com',
      TRUST_PROXY: '1',
      ...secrets,
    });
    expect(config.http.corsOrigins).toEqual(['http://localhost:5173', 'https://app.example.com']);
    expect(config.http.trustProxy).toBe(1);
  });
});
