import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { Environment, LogFormat, LogLevel, Role } from './environment';
import { loadOrCreateDevSecrets } from './dev-secrets';
import { webhookSecretProblems } from './webhook-secret';

export type DatabaseConfig =
  | { type: 'sqlite'; path: string; migrationsRun: boolean; busyTimeoutMs: number }
  | { type: 'postgres'; url: string; poolSize: number; migrationsRun: boolean };

function traceExporters(value: string | undefined): ('otlp' | 'console')[] {
  const names = new Set((value ?? '').split(',').map((name) => name.trim().toLowerCase()));
  if (names.has('none')) return [];
  return (['otlp', 'console'] as const).filter((name) => names.has(name));
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
  }
}

/** The typed, validated configuration. Injected by class; built once by `loadConfig`. */
export class AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly roles: ReadonlySet<Role>;
  /** Port of the operations listener of a process without the api role (OPS_PORT); null: none. */
  readonly opsPort: number | null;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly logLevel: LogLevel;
  /** LOG_FORMAT; `auto` is decided where the logger is built (it depends on stdout). */
  readonly logFormat: LogFormat;
  /** Trace exporters to start (OTEL_TRACES_EXPORTER less `none`, empty when OTEL_SDK_DISABLED); empty: no traces. */
  readonly traceExporters: ('otlp' | 'console')[];
  readonly http: {
    bodyLimit: string;
    webhookBodyLimit: string;
    sseKeepaliveMs: number;
    trustProxy: boolean | number | string;
    corsOrigins: string[];
    /** Bearer token `GET /metrics` requires; null leaves it open. */
    metricsToken: string | null;
    /** Where senders reach this API, for absolute webhook URLs; no trailing slash. */
    apiPublicUrl: string;
  };
  readonly rateLimit: {
    perSecond: number;
    burst: number;
    authPerMinute: number;
    authBurst: number;
  };
  readonly auth: {
    cookieSecure: boolean;
    requireEmailVerification: boolean;
    sessionTtlDays: number;
    rememberTtlDays: number;
    scryptLogN: number;
  };
  readonly secrets: {
    webhookSecret: string;
    encryptionKey: Buffer;
    /** Where generated development secrets came from, for the boot warning; null when configured. */
    generatedAt: string | null;
  };
  readonly plans: {
    /** PLAN_LIMITS: `off` gives every account the workspace plan without quotas (a private install). */
    limits: 'saas' | 'off';
  };
  readonly workspaces: {
    /** Seats per workspace; Infinity when plan limits are off. */
    memberLimit: number;
    monthlyRunLimit: number;
    nodeLimit: number;
    /** Default lifetime of an invitation, in days (WORKSPACE_INVITATION_TTL_DAYS). */
    invitationTtlDays: number;
    /** Price text of the workspace plan, display only (WORKSPACE_PLAN_PRICE). */
    planPrice: string;
  };
  readonly runs: {
    overage: 'block' | 'allow';
    soloMonthlyLimit: number;
    runawayLimit5Min: number;
    retentionDays: number;
    /** Executions that may end in a crash or lost lease before the run fails (RUN_MAX_ATTEMPTS). */
    maxAttempts: number;
  };
  readonly worker: {
    leaseMs: number;
    heartbeatMs: number;
    maxInflight: number;
    pollMs: number;
    deadlineMs: number;
    shutdownGraceMs: number;
  };
  readonly notifications: {
    maxAttempts: number;
    retryBaseMs: number;
    /** The longest wait between two attempts. */
    retryMaxMs: number;
    timeoutMs: number;
    secretOverlapMs: number;
    /** How often the dispatcher looks for due messages; it is woken at once by messages it queued. */
    pollMs: number;
    /** How often, and how far back, finished runs are checked for messages not queued (a crash, a stale cache). */
    sweepMs: number;
    sweepWindowMs: number;
  };
  readonly scheduler: {
    tickMs: number;
    catchUp: 'latest' | 'all' | 'skip';
    /** Shortest time between two firings of a schedule (SCHEDULE_MIN_INTERVAL_SECONDS). */
    minIntervalMs: number;
  };
  readonly egress: {
    allowedDomains: string[];
    disallowedDomains: string[];
    defaultDeny: boolean;
    allowPrivateNetworks: boolean;
  };
  readonly providers: {
    sendgridBaseUrl: string;
    mailgunBaseUrl: string;
    mailgunEuBaseUrl: string;
    sesBaseUrl: string;
  };
  readonly mail: {
    /** Base of e-mailed links to the web client, without a trailing slash (PUBLIC_URL). */
    publicUrl: string;
    /** Runloom's own SMTP relay; null when SMTP_HOST is unset (no mail is sent). */
    smtp: {
      host: string;
      port: number;
      /** Both set or both null. */
      user: string | null;
      password: string | null;
      from: string;
      tlsMode: 'starttls' | 'implicit_tls' | null;
    } | null;
  };
  readonly engine: {
    httpMaxResponseBytes: number;
    codeTimeoutMs: number;
    codeMemoryBytes: number;
    threads: number;
    threadMemoryMb: number;
    threadNice: number;
    inlineMaxBytes: number;
    nodeTimeoutMs: number;
    nodeOutputBytes: number;
    runOutputBytes: number;
  };

  constructor(values: AppConfig) {
    Object.assign(this, values);
  }
}

type Env = Record<string, string | undefined>;

/** `postgres` when DATABASE_URL points at PostgreSQL; entity column types depend on it at import time. */
export function databaseDialect(env: Env = process.env): 'sqlite' | 'postgres' {
  return /^postgres(ql)?:\/\//.test(env.DATABASE_URL ?? '') ? 'postgres' : 'sqlite';
}

/**
 * The one message for a bad variable: a wrong kind of value (`PORT=abc`) is named as such before any
 * range rule, which would only confuse (`abc` is not "greater than 65535").
 */
function firstProblem(e: ValidationError): string | undefined {
  const constraints = e.constraints ?? {};
  if (constraints.isInt) {
    return typeof e.value === 'number' && Number.isNaN(e.value)
      ? `${e.property} is not a number`
      : `${e.property} must be a whole number`;
  }
  if (constraints.isBoolean) return `${e.property} must be true or false`;
  return Object.values(constraints)[0];
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => {
    const message = firstProblem(e);
    // Never echo the value: it may be a secret.
    if (!message) return describe(e.children ?? []);
    return [message.startsWith(e.property) ? message : `${e.property}: ${message}`];
  });
}

function parseTrustProxy(raw: string): boolean | number | string {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
}

function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\/$/, ''))
    .filter(Boolean);
}

/**
 * Validates the environment and builds the configuration. Throws one `ConfigValidationError`
 * naming every bad variable. Outside production, missing secrets are generated once into
 * DATA_DIR so that `npm start` works on a fresh clone.
 */
export function loadConfig(rawEnv: Env = process.env): AppConfig {
  const known = Object.keys(new Environment()).concat(
    'DATABASE_URL',
    'FRONTEND_ORIGIN',
    'ADMIN_ORIGIN',
    'AUTH_COOKIE_SECURE',
    'WEBHOOK_SECRET',
    'API_SECRETS_ENCRYPTION_KEY',
    'PUBLIC_URL',
    'API_PUBLIC_URL',
    'SMTP_HOST',
    'SMTP_USER',
    'SMTP_PASSWORD',
    'SMTP_FROM',
    'SMTP_TLS_MODE',
  );
  const input: Record<string, string> = {};
  for (const key of known) {
    const value = rawEnv[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const env = plainToInstance(Environment, input);
  const problems = describe(validateSync(env));
  if (env.NODE_ENV === 'production') {
    for (const name of ['WEBHOOK_SECRET', 'API_SECRETS_ENCRYPTION_KEY'] as const) {
      if (!input[name]) problems.push(`${name} is required in production`);
    }
  }
  // docs/contract.md §6.1: webhook URLs and signing keys are only as strong as this secret.
  if (input.WEBHOOK_SECRET) problems.push(...webhookSecretProblems(input.WEBHOOK_SECRET));
  problems.push(...smtpProblems(input, env.NODE_ENV === 'production' && env.REQUIRE_EMAIL_VERIFICATION === true));
  if (problems.length) throw new ConfigValidationError(problems);

  const dataDir = path.resolve(env.DATA_DIR);
  const production = env.NODE_ENV === 'production';
  let webhookSecret = env.WEBHOOK_SECRET;
  let encryptionKey = env.API_SECRETS_ENCRYPTION_KEY;
  let generatedAt: string | null = null;
  if (!webhookSecret || !encryptionKey) {
    // Production never reaches here: validation above requires both.
    const generated = loadOrCreateDevSecrets(dataDir);
    webhookSecret ??= generated.values.WEBHOOK_SECRET;
    encryptionKey ??= generated.values.API_SECRETS_ENCRYPTION_KEY;
    generatedAt = generated.file;
  }

  const dbUrl = env.DATABASE_URL;
  const database: DatabaseConfig =
    dbUrl && databaseDialect({ DATABASE_URL: dbUrl }) === 'postgres'
      ? { type: 'postgres', url: dbUrl, poolSize: env.DB_POOL_SIZE, migrationsRun: env.DB_MIGRATIONS_RUN }
      : {
          type: 'sqlite',
          path: dbUrl ? resolveSqlitePath(dbUrl.slice('sqlite:'.length)) : path.join(dataDir, 'runloom.sqlite'),
          migrationsRun: env.DB_MIGRATIONS_RUN,
          busyTimeoutMs: env.DB_BUSY_TIMEOUT_MS,
        };

  return new AppConfig({
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    roles: new Set(env.RUNLOOM_ROLES.split(',').map((r) => r.trim() as Role)),
    opsPort: env.OPS_PORT ?? null,
    dataDir,
    database,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    traceExporters: env.OTEL_SDK_DISABLED ? [] : traceExporters(env.OTEL_TRACES_EXPORTER),
    http: {
      bodyLimit: env.BODY_LIMIT,
      webhookBodyLimit: env.WEBHOOK_BODY_LIMIT,
      sseKeepaliveMs: env.SSE_KEEPALIVE_MS,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      corsOrigins: [...splitList(env.FRONTEND_ORIGIN), ...splitList(env.ADMIN_ORIGIN)],
      metricsToken: env.METRICS_TOKEN ?? null,
      // PUBLIC_URL serves when the web client and the API share an address (the usual deployment).
      apiPublicUrl: (env.API_PUBLIC_URL ?? env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    },
    rateLimit: {
      perSecond: env.RATE_LIMIT_PER_SECOND,
      burst: env.RATE_LIMIT_BURST,
      authPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
      authBurst: env.AUTH_RATE_LIMIT_BURST,
    },
    auth: {
      cookieSecure: env.AUTH_COOKIE_SECURE ?? production,
      requireEmailVerification: env.REQUIRE_EMAIL_VERIFICATION,
      sessionTtlDays: env.SESSION_TTL_DAYS,
      rememberTtlDays: env.SESSION_REMEMBER_TTL_DAYS,
      scryptLogN: env.PASSWORD_SCRYPT_LOG_N,
    },
    secrets: {
      webhookSecret: webhookSecret!,
      encryptionKey: Buffer.from(encryptionKey!, 'base64'),
      generatedAt,
    },
    plans: { limits: env.PLAN_LIMITS },
    workspaces: {
      memberLimit: env.PLAN_LIMITS === 'off' ? Infinity : env.WORKSPACE_MEMBER_LIMIT,
      nodeLimit: env.WORKSPACE_NODE_LIMIT,
      monthlyRunLimit: env.WORKSPACE_MONTHLY_RUN_LIMIT,
      invitationTtlDays: env.WORKSPACE_INVITATION_TTL_DAYS,
      planPrice: env.WORKSPACE_PLAN_PRICE,
    },
    runs: {
      overage: env.WORKSPACE_RUN_OVERAGE,
      soloMonthlyLimit: env.SOLO_MONTHLY_RUN_LIMIT,
      runawayLimit5Min: env.RUNAWAY_LIMIT_5MIN,
      retentionDays: env.RUN_RETENTION_DAYS,
      maxAttempts: env.RUN_MAX_ATTEMPTS,
    },
    worker: {
      leaseMs: env.WORKER_LEASE_SECONDS * 1000,
      heartbeatMs: Math.min(env.WORKER_HEARTBEAT_INTERVAL_MS, (env.WORKER_LEASE_SECONDS * 1000) / 3),
      maxInflight: env.WORKER_MAX_INFLIGHT_RUNS,
      pollMs: env.WORKER_POLL_INTERVAL_MS,
      deadlineMs: env.WORKER_RUN_DEADLINE_SECONDS * 1000,
      shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
    },
    notifications: {
      maxAttempts: env.NOTIFICATION_MAX_ATTEMPTS,
      retryBaseMs: env.NOTIFICATION_RETRY_BASE_MS,
      retryMaxMs: 3_600_000,
      timeoutMs: env.NOTIFICATION_TIMEOUT_MS,
      secretOverlapMs: env.NOTIFICATION_SECRET_OVERLAP_HOURS * 3_600_000,
      // Messages this process queues wake it at once; the poll finds retries come due and a
      // redeliver asked of another process. A peek (a read) first: a quiet poll writes nothing.
      pollMs: Math.max(env.WORKER_POLL_INTERVAL_MS * 4, 50),
      sweepMs: 30_000,
      sweepWindowMs: 15 * 60_000,
    },
    scheduler: {
      tickMs: env.SCHEDULER_TICK_MS,
      catchUp: env.SCHEDULE_CATCH_UP,
      minIntervalMs: env.SCHEDULE_MIN_INTERVAL_SECONDS * 1000,
    },
    egress: {
      allowedDomains: hostList(env.ALLOWED_HTTP_DOMAINS),
      disallowedDomains: hostList(env.DISALLOWED_HTTP_DOMAINS),
      defaultDeny: env.EGRESS_DEFAULT_DENY,
      allowPrivateNetworks: env.EGRESS_ALLOW_PRIVATE_NETWORKS,
    },
    providers: {
      sendgridBaseUrl: env.SENDGRID_API_BASE.replace(/\/$/, ''),
      mailgunBaseUrl: env.MAILGUN_API_BASE.replace(/\/$/, ''),
      mailgunEuBaseUrl: env.MAILGUN_EU_API_BASE.replace(/\/$/, ''),
      sesBaseUrl: env.SES_API_BASE.replace(/\/$/, ''),
    },
    mail: {
      publicUrl: (env.PUBLIC_URL ?? splitList(env.FRONTEND_ORIGIN)[0] ?? `http://localhost:${env.PORT}`).replace(
        /\/+$/,
        '',
      ),
      smtp: env.SMTP_HOST
        ? {
            host: env.SMTP_HOST,
            port: env.SMTP_PORT,
            user: env.SMTP_USER ?? null,
            password: env.SMTP_PASSWORD ?? null,
            from: env.SMTP_FROM!,
            tlsMode: env.SMTP_TLS_MODE ?? null,
          }
        : null,
    },
    engine: {
      httpMaxResponseBytes: env.HTTP_MAX_RESPONSE_BYTES,
      codeTimeoutMs: env.CODE_NODE_TIMEOUT_MS,
      codeMemoryBytes: env.CODE_NODE_MEMORY_MB * 1024 * 1024,
      threads: env.ENGINE_THREADS ?? Math.max(1, availableParallelism()),
      threadMemoryMb: env.ENGINE_THREAD_MEMORY_MB,
      threadNice: env.ENGINE_THREAD_NICE,
      inlineMaxBytes: env.ENGINE_INLINE_MAX_BYTES,
      nodeTimeoutMs: env.NODE_TIMEOUT_MS,
      nodeOutputBytes: env.NODE_OUTPUT_MAX_BYTES,
      runOutputBytes: env.RUN_OUTPUT_MAX_BYTES,
    },
  } as AppConfig);
}

/** SMTP settings that only make sense together (never echoes a value). */
function smtpProblems(input: Record<string, string>, verificationRequiredInProduction: boolean): string[] {
  const problems: string[] = [];
  // Nobody could ever log in: the verification link would only reach a log nobody reads.
  if (verificationRequiredInProduction && !input.SMTP_HOST) {
    problems.push('REQUIRE_EMAIL_VERIFICATION needs SMTP_HOST in production');
  }
  if (input.SMTP_HOST && !input.SMTP_FROM) problems.push('SMTP_FROM is required with SMTP_HOST');
  if (!!input.SMTP_USER !== !!input.SMTP_PASSWORD) problems.push('SMTP_USER and SMTP_PASSWORD go together');
  return problems;
}

function hostList(raw: string | undefined): string[] {
  return [...new Set(splitList(raw).map((h) => h.toLowerCase()))];
}

function resolveSqlitePath(p: string): string {
  return p === ':memory:' ? p : path.resolve(p);
}
