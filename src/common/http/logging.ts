import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import pinoPretty from 'pino-pretty';
import { AppConfig } from '../../config/app-config';
import type { LogFormat } from '../../config/environment';

/** A client's `x-request-id` is used only in this shape (it ends up in logs and on the run it starts). */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Path segments that are credentials: webhook tokens, and the tokens of e-mailed links. */
const PATH_CREDENTIALS = [
  /(\/trigger\/)[^/]+/i,
  /(\/verify-reset-token\/)[^/]+/i,
  /(\/delete\/summary\/)[^/]+/i,
  /(^\/api\/invites\/)(?!accept\/?$|decline\/?$)[^/]+/i,
];

/** Path without query string, with path-embedded credentials masked. */
export function loggablePath(url: string | undefined): string {
  const path = (url ?? '').split('?')[0];
  return PATH_CREDENTIALS.reduce((masked, pattern) => masked.replace(pattern, '$1[redacted]'), path);
}

/** LOG_FORMAT `auto`: readable lines for a person at a terminal, JSON for anything else (collectors, files). */
export function resolveLogFormat(format: LogFormat, env: AppConfig['env'], stdoutIsTty: boolean): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return env !== 'production' && stdoutIsTty ? 'pretty' : 'json';
}

/**
 * pino-pretty in this process, writing synchronously: no worker thread, and the lines logged just
 * before an exit (a failed start) are not lost.
 */
function prettyStdout(colorize: boolean): DestinationStream {
  return pinoPretty({
    colorize,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * Structured logs, one line per request with its id (the server's: `x-request-id` when sane,
 * configure-app.ts). Serializers whitelist what is logged: no headers, cookies, bodies or query strings. JSON
 * lines, or pino-pretty's lines by LOG_FORMAT; a given destination (the tests') always gets JSON.
 */
export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  const options: Options = {
    level: config.logLevel,
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        path: loggablePath(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error) => ({ type: err.name, message: err.message }),
    },
    redact: { paths: ['req.headers', 'res.headers'], remove: true },
  };
  const tty = process.stdout.isTTY === true;
  const stream =
    destination ?? (resolveLogFormat(config.logFormat, config.env, tty) === 'pretty' ? prettyStdout(tty) : undefined);
  return { pinoHttp: stream ? [options, stream] : options };
}
