import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

const toBoolean = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value; // left as a string so @IsBoolean names it
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const ROLES = ['api', 'worker', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Every environment variable Runloom reads, with its default. `.env.example` documents the same
 * list; `docs/operations.md` (later) is generated from it. Nothing outside `src/config` reads
 * `process.env`.
 */
export class Environment {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @IsString()
  HOST = '0.0.0.0';

  /** Comma-separated subset of api,worker,scheduler. */
  @IsOptional()
  @Matches(/^\s*(api|worker|scheduler)(\s*,\s*(api|worker|scheduler))*\s*$/, {
    message: 'RUNLOOM_ROLES must be a comma-separated list of api, worker, scheduler',
  })
  RUNLOOM_ROLES = 'api,worker,scheduler';

  /** Port of the operations listener (/healthz, /readyz, /metrics) of a process without the api role; 0: any free port. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'OPS_PORT must be a port number (0-65535)' })
  @Min(0, { message: 'OPS_PORT must be a port number (0-65535)' })
  @Max(65535, { message: 'OPS_PORT must be a port number (0-65535)' })
  OPS_PORT?: number;

  /** Where the embedded SQLite database and generated development secrets live. */
  @IsOptional()
  @IsString()
  DATA_DIR = './data';

  /** Unset: embedded SQLite under DATA_DIR. `postgres://…` / `postgresql://…`: PostgreSQL. */
  @IsOptional()
  @Matches(/^(postgres(ql)?:\/\/.+|sqlite:.+)$/, {
    message: 'DATABASE_URL must be a postgres:// URL or sqlite:<path>',
  })
  DATABASE_URL?: string;

  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** SQLite: how long a write waits (on timers) for a lock another connection holds before 503 database_busy. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  DB_BUSY_TIMEOUT_MS = 5000;

  @IsOptional()
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** auto: pretty (pino-pretty) when NODE_ENV is not production and stdout is a terminal, else JSON lines. */
  @IsOptional()
  @IsIn(LOG_FORMATS, { message: 'LOG_FORMAT must be one of auto, pretty, json' })
  LOG_FORMAT: LogFormat = 'auto';

  /** Global per-IP token bucket: refill rate. 0 disables rate limiting. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_SECOND = 200;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_BURST = 400;

  /** Stricter bucket for signup/login, per IP. 0 disables. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  AUTH_RATE_LIMIT_PER_MINUTE = 30;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  AUTH_RATE_LIMIT_BURST = 10;

  /** Proxies trusted for the client address (the server's `trustProxy`): false, true, a hop count or subnets. */
  @IsOptional()
  @IsString()
  TRUST_PROXY = 'false';

  /** Comma-separated origins allowed by CORS (with credentials). */
  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*\s*$/, {
    message: 'FRONTEND_ORIGIN must be one or more comma-separated http(s) origins',
  })
  FRONTEND_ORIGIN?: string;

  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*\s*$/, {
    message: 'ADMIN_ORIGIN must be one or more comma-separated http(s) origins',
  })
  ADMIN_ORIGIN?: string;

  /** Maximum JSON body size accepted by the API. */
  @IsOptional()
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 512kb or 2mb' })
  BODY_LIMIT = '2mb';

  /** Largest body accepted on the public webhook trigger. */
  @IsOptional()
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'WEBHOOK_BODY_LIMIT must look like 256kb or 1mb' })
  WEBHOOK_BODY_LIMIT = '1mb';

  /** Secure flag on session and CSRF cookies. Default: on in production, off otherwise. */
  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean()
  AUTH_COOKIE_SECURE?: boolean;

  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean()
  REQUIRE_EMAIL_VERIFICATION = false;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  SESSION_TTL_DAYS = 7;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  SESSION_REMEMBER_TTL_DAYS = 30;

  /** scrypt cost as log2(N). 17 (N=131072, 128 MiB) is the OWASP recommendation. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(20)
  PASSWORD_SCRYPT_LOG_N = 17;

  /** Required in production (checked in loadConfig); generated into DATA_DIR otherwise. */
  // Strength rules (length, variety, known defaults) are checked in loadConfig (docs/contract.md §6.1).
  @IsOptional()
  @IsString()
  WEBHOOK_SECRET?: string;

  /** Required in production (checked in loadConfig); generated into DATA_DIR otherwise. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message: 'API_SECRETS_ENCRYPTION_KEY must be 32 bytes encoded as base64 (44 characters)',
  })
  API_SECRETS_ENCRYPTION_KEY?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WORKSPACE_MEMBER_LIMIT = 8;

  /** Days a workspace invitation stays usable when the inviter does not say (`expires_in_days`, 1 to 60). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60)
  WORKSPACE_INVITATION_TTL_DAYS = 7;

  /** Nodes per workflow on the workspace plan (Solo allows 10); a larger graph is refused on save. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(100_000)
  WORKSPACE_NODE_LIMIT = 2000;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WORKSPACE_MONTHLY_RUN_LIMIT = 10000;

  /** Allow runs past WORKSPACE_MONTHLY_RUN_LIMIT, counted as overage (`allow`), or refuse them with 429 (`block`). */
  @IsOptional()
  @IsIn(['block', 'allow'])
  WORKSPACE_RUN_OVERAGE: 'block' | 'allow' = 'block';

  /**
   * `saas` (default): the hosted plan model. Solo accounts get 3 workflows of up to 10 nodes,
   * SOLO_MONTHLY_RUN_LIMIT runs a month, no schedules, no signed webhooks, no Slack or Teams;
   * workspace plans get WORKSPACE_MONTHLY_RUN_LIMIT runs a month and WORKSPACE_MEMBER_LIMIT seats.
   * `off`: a private install. Every account and workspace has the workspace plan's features, with no
   * run quota and no seat limit. WORKSPACE_NODE_LIMIT, the runaway protection of workspace workflows
   * and the schedule interval floor still apply: they protect the server, not a price list.
   */
  @IsOptional()
  @IsIn(['saas', 'off'], { message: 'PLAN_LIMITS must be saas or off' })
  PLAN_LIMITS: 'saas' | 'off' = 'saas';

  /** Price text of the workspace plan shown on the onboarding page and the Plan tab (display only; nothing is charged). */
  @IsOptional()
  @IsString()
  @Matches(/^[^\r\n]{1,40}$/, { message: 'WORKSPACE_PLAN_PRICE must be 1 to 40 characters on one line' })
  WORKSPACE_PLAN_PRICE = '$29/mo';

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SOLO_MONTHLY_RUN_LIMIT = 250;

  /** Runaway protection: more runs than this in a workspace within 5 minutes blocks new ones. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  RUNAWAY_LIMIT_5MIN = 500;

  /** A worker's claim on a run lasts this long unless renewed by heartbeats. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(3600)
  WORKER_LEASE_SECONDS = 30;

  /** Heartbeat cadence while a run executes (also how fast a cancel from another process is seen). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(50)
  WORKER_HEARTBEAT_INTERVAL_MS = 2000;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  WORKER_MAX_INFLIGHT_RUNS = 64;

  /** How often an idle worker looks for due runs (new runs in the same process wake it at once). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WORKER_POLL_INTERVAL_MS = 250;

  /** Run notifications: attempts per message before it is marked failed (a redeliver starts more). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(30)
  NOTIFICATION_MAX_ATTEMPTS = 8;

  /**
   * Run notifications: the first retry waits about this long (ms); each next one twice as long, up to
   * an hour, each with random jitter (between half and all of it).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  NOTIFICATION_RETRY_BASE_MS = 10_000;

  /** Run notifications: how long an endpoint answers before an attempt counts as failed (ms). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  NOTIFICATION_TIMEOUT_MS = 10_000;

  /** Run notifications: after a secret rotation, messages are signed with both secrets for this long. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(720)
  NOTIFICATION_SECRET_OVERLAP_HOURS = 24;

  /** Wall-clock cap on one execution of a run (delays excluded); 0 disables. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WORKER_RUN_DEADLINE_SECONDS = 300;

  /** On SIGTERM, in-flight runs get this long to finish before they are handed back to the queue. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WORKER_SHUTDOWN_GRACE_SECONDS = 10;

  /** How often the scheduler looks for due schedules (it also wakes at the soonest due time). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  SCHEDULER_TICK_MS = 1000;

  /**
   * Firings missed while no scheduler ran: `latest` fires once for the most recent missed time,
   * `all` fires every missed time, `skip` fires none (the schedule moves on to the next time).
   */
  @IsOptional()
  @IsIn(['latest', 'all', 'skip'])
  SCHEDULE_CATCH_UP: 'latest' | 'all' | 'skip' = 'latest';

  /**
   * Shortest time between two firings of a schedule on the workspace plan (Solo plans have no
   * schedules). A faster schedule is refused on save (403 `schedule-interval`), and one already
   * stored is turned off when it comes due.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  SCHEDULE_MIN_INTERVAL_SECONDS = 60;

  /** Finished runs (with their node runs and dead letters) and egress block records older than this are deleted, in chunks. 0 keeps them. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RUN_RETENTION_DAYS = 30;

  /** Executions of one run that may end in a crash or a lost lease; the last one fails it with a dead letter. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  RUN_MAX_ATTEMPTS = 3;

  /** Largest HTTP response body a node reads. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  HTTP_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

  /** Code node sandbox limits. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  CODE_NODE_TIMEOUT_MS = 5000;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1024)
  CODE_NODE_MEMORY_MB = 32;

  /** Worker threads that execute pure nodes (code, condition, formatter, trigger, delay); unset = one per core. */
  @Transform(({ value }: { value: unknown }) => (value === '' || value === undefined ? undefined : Number(value)))
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  ENGINE_THREADS?: number;

  /**
   * A stretch of in-memory nodes (conditions, formatters…) whose data and context hold at most this
   * many bytes runs on the main thread: their work is linear in that size, and a thread hop would
   * cost more. 0 sends every pure node to a thread.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65_536)
  ENGINE_INLINE_MAX_BYTES = 4096;

  /** V8 heap limit of each engine thread: a node that needs more fails `node_memory_exceeded`. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  // A thread needs about 10 MB to load the node modules before it runs anything.
  @Min(32)
  @Max(8192)
  ENGINE_THREAD_MEMORY_MB = 256;

  /**
   * Scheduling niceness of the engine threads (Linux): when untrusted work keeps every core busy,
   * the main thread (HTTP, SSE, heartbeats, database writes) still gets the CPU first. 0 keeps the
   * process's priority.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(19)
  ENGINE_THREAD_NICE = 10;

  /** Wall time of one node: a pure node's thread is terminated past it and the node fails `node_timeout`. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  NODE_TIMEOUT_MS = 30_000;

  /** JSON size of one node's outputs; larger fails the node with `output_too_large`. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  NODE_OUTPUT_MAX_BYTES = 1024 * 1024;

  /** JSON size of all node outputs of one run execution; past it the node that crossed it fails `output_too_large`. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  RUN_OUTPUT_MAX_BYTES = 10 * 1024 * 1024;

  /** Deployment allowlist for outbound calls (hosts or `*.suffix`), comma-separated; intersected with each workflow's. */
  @IsOptional()
  @IsString()
  ALLOWED_HTTP_DOMAINS?: string;

  /** Hosts outbound calls may never reach (comma-separated). */
  @IsOptional()
  @IsString()
  DISALLOWED_HTTP_DOMAINS?: string;

  /** Refuse outbound calls unless an allowlist matches. */
  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean()
  EGRESS_DEFAULT_DENY = false;

  /** Turn the SSRF guard off (local development and tests that call 127.0.0.1 on purpose). */
  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean()
  EGRESS_ALLOW_PRIVATE_NETWORKS = false;

  /** Provider API bases (tests point them at local servers). `{region}` is replaced for SES. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'SENDGRID_API_BASE must be an http(s) URL' })
  SENDGRID_API_BASE = 'https://api.sendgrid.com';

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'MAILGUN_API_BASE must be an http(s) URL' })
  MAILGUN_API_BASE = 'https://api.mailgun.net';

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'MAILGUN_EU_API_BASE must be an http(s) URL' })
  MAILGUN_EU_API_BASE = 'https://api.eu.mailgun.net';

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'SES_API_BASE must be an http(s) URL' })
  SES_API_BASE = 'https://email.{region}.amazonaws.com';

  /**
   * Address of the web client in links Runloom e-mails (verification, password reset, invitations).
   * Unset: the first FRONTEND_ORIGIN, else http://localhost:PORT. May carry a path prefix.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s,?#]+$/, { message: 'PUBLIC_URL must be an http(s) URL without query or fragment' })
  PUBLIC_URL?: string;

  /**
   * Address at which webhook senders reach this API, for the absolute URLs (`absolute_url`) next to
   * the webhook paths. Unset: PUBLIC_URL (the web client and the API on one address), else
   * http://localhost:PORT. May carry a path prefix.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s,?#]+$/, { message: 'API_PUBLIC_URL must be an http(s) URL without query or fragment' })
  API_PUBLIC_URL?: string;

  /** SMTP relay for Runloom's own e-mail (verification, password reset, invitations). Unset: no mail is sent. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, { message: 'SMTP_HOST must be a host name or address' })
  SMTP_HOST?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  SMTP_PORT = 587;

  @IsOptional()
  @IsString()
  SMTP_USER?: string;

  @IsOptional()
  @IsString()
  SMTP_PASSWORD?: string;

  /** Sender of Runloom's e-mail, `addr@example.com` or `Name <addr@example.com>`; required with SMTP_HOST. */
  @IsOptional()
  @Matches(/^([^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, {
    message: 'SMTP_FROM must be an address or "Name <address>"',
  })
  SMTP_FROM?: string;

  /**
   * `starttls` or `implicit_tls`; unset: implicit TLS on port 465, STARTTLS (required) elsewhere.
   * Plaintext SMTP is never used.
   */
  @IsOptional()
  @IsIn(['starttls', 'implicit_tls'])
  SMTP_TLS_MODE?: 'starttls' | 'implicit_tls';

  /** When set, `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>`; unset, it is open. */
  @IsOptional()
  @IsString()
  @Matches(/^\S{16,}$/, { message: 'METRICS_TOKEN must be at least 16 characters without spaces' })
  METRICS_TOKEN?: string;

  /**
   * Trace exporters, OpenTelemetry's standard variable (comma-separated): `otlp` (OTLP over HTTP,
   * to `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, default
   * http://localhost:4318), `console`, or `none`. Unset: no traces. The other `OTEL_*` variables
   * (service name, resource attributes, sampler, batching, headers) are read by the SDK.
   */
  @IsOptional()
  @Matches(/^\s*(none|otlp|console)(\s*,\s*(none|otlp|console))*\s*$/i, {
    message: 'OTEL_TRACES_EXPORTER must be otlp, console or none (comma-separated)',
  })
  OTEL_TRACES_EXPORTER?: string;

  /** `true` turns OpenTelemetry off whatever `OTEL_TRACES_EXPORTER` says (the standard switch). */
  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean()
  OTEL_SDK_DISABLED = false;

  /** `: keepalive` comment interval on live streams (SSE), in milliseconds. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  SSE_KEEPALIVE_MS = 10_000;
}
