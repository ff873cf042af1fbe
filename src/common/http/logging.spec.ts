import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../config/app-config';
import { loggerParams, REQUEST_ID, resolveLogFormat } from './logging';

const config = (env: Record<string, string>) =>
  loadConfig({
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-logging-')),
    WEBHOOK_SECRET: 'a-strong-test-secret-0123456789-abcdefgh',
    API_SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    ...env,
  });

describe('log format (LOG_FORMAT)', () => {
  it('auto: pretty for a person at a terminal outside production, JSON otherwise', () => {
    expect(resolveLogFormat('auto', 'development', true)).toBe('pretty');
    expect(resolveLogFormat('auto', 'test', true)).toBe('pretty');
    expect(resolveLogFormat('auto', 'development', false)).toBe('json');
    expect(resolveLogFormat('auto', 'production', true)).toBe('json');
  });

  it('an explicit format wins', () => {
    expect(resolveLogFormat('pretty', 'production', false)).toBe('pretty');
    expect(resolveLogFormat('json', 'development', true)).toBe('json');
  });

  it('is validated with the rest of the configuration', () => {
    expect(config({}).logFormat).toBe('auto');
    expect(() => config({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT must be one of auto, pretty, json/);
  });

  it('pretty: pino-pretty is the destination; a given destination (the tests’) always gets JSON', () => {
    const pretty = loggerParams(config({ LOG_FORMAT: 'pretty' })).pinoHttp;
    expect(Array.isArray(pretty)).toBe(true);
    expect(Array.isArray(loggerParams(config({ LOG_FORMAT: 'json' })).pinoHttp)).toBe(false);

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const params = loggerParams(config({ LOG_FORMAT: 'pretty' }), sink).pinoHttp as [pino.LoggerOptions, Writable];
    expect(params[1]).toBe(sink);
    pino(params[0], params[1]).info({ run_id: 'r-1' }, 'run queued');
    expect(JSON.parse(lines[0])).toMatchObject({ level: 30, run_id: 'r-1', msg: 'run queued' });
  });
});

describe('request ids', () => {
  it('accepts a conservative shape only', () => {
    for (const ok of ['abc', 'req-1.2_3', 'a'.repeat(64), '0b9f31f2-4768-4f5b-ada8-14616a13ad90']) {
      expect(REQUEST_ID.test(ok)).toBe(true);
    }
    for (const bad of ['', 'a'.repeat(65), 'a b', 'x"y', 'line\nbreak', '<script>', 'ü']) {
      expect(REQUEST_ID.test(bad)).toBe(false);
    }
  });
});
