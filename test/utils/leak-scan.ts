import * as fs from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import { SecretCrypto } from '../../src/secrets/secret-crypto';

/**
 * The suite-wide secret leak scan (issue 10, SECURITY.md). Every test app records what it answered
 * (response bodies and SSE frames), what it logged, and, when it closes, every cell of its database;
 * it learns the secret values the suite uses (stored secrets, decrypted at the end; values sent to
 * the secrets API; passwords sent to signup and login; the server's own keys) and fails the test
 * file if any of them shows up in plaintext anywhere it recorded.
 */

/** Shorter values ("x", "abc") would match ordinary text; every test secret of substance is longer. */
const MIN_SECRET_LENGTH = 8;
/** Bodies are kept up to this size each (a download of a big run); a leak starts near the top anyway. */
const MAX_BODY_CHARS = 4 * 1024 * 1024;

export interface LeakSource {
  kind: 'response' | 'log' | 'db' | 'process';
  where: string;
  text: string;
}

export interface LeakReport {
  file: string;
  secrets: number;
  responses: number;
  logLines: number;
  dbCells: number;
  processOutputs: number;
  hits: string[];
}

/** Outputs of child processes started by the current test file (test/utils/processes.ts). */
const processOutputs: { name: string; output: () => string }[] = [];
export function watchProcessOutput(name: string, output: () => string): void {
  processOutputs.push({ name, output });
}

export class LeakScan {
  private readonly responses: LeakSource[] = [];
  private readonly values = new Set<string>();

  constructor(private readonly serverSecrets: string[]) {
    for (const value of serverSecrets) this.learn(value);
  }

  /** Records every response written by `server`: installed before the application's own listener. */
  attach(server: Server): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: string[] = [];
      let size = 0;
      const keep = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_BODY_CHARS) return;
        const text = Buffer.isBuffer(chunk)
          ? chunk.toString('utf8')
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8'
              ? Buffer.from(String(chunk), encoding as BufferEncoding).toString('utf8')
              : String(chunk);
        size += text.length;
        chunks.push(text);
      };
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.write = ((...args: unknown[]) => {
        keep(args[0], args[1]);
        return write(...args);
      }) as typeof res.write;
      res.end = ((...args: unknown[]) => {
        keep(args[0], args[1]);
        return end(...args);
      }) as typeof res.end;
      res.once('close', () => {
        this.learnFromRequest(req);
        const headers = JSON.stringify(res.getHeaders());
        this.responses.push({
          kind: 'response',
          where: `${req.method} ${req.url} → ${res.statusCode}`,
          text: `${headers}\n${chunks.join('')}`,
        });
      });
    });
  }

  /** Secret values the suite sends: to the secrets API, and passwords at signup and login (parsed bodies). */
  private learnFromRequest(req: IncomingMessage): void {
    const url = req.url ?? '';
    const body = (req as IncomingMessage & { body?: Record<string, unknown> }).body;
    if (!body || typeof body !== 'object') return;
    if (req.method === 'PUT' && url.startsWith('/api/options/secrets/')) this.learn(body.value);
    if (req.method === 'POST' && /^\/api\/auth\/(signup|login)\b/.test(url)) this.learn(body.password);
  }

  private learn(value: unknown): void {
    if (typeof value !== 'string') return;
    const trimmed = value.trim();
    // A mask echoed back by a client is not a secret.
    if (trimmed.length >= MIN_SECRET_LENGTH && !/^\*+$/.test(trimmed)) this.values.add(trimmed);
  }

  /**
   * Learns the stored secrets (decrypted), snapshots every database cell, and scans all of it.
   * Returns the report; `hits` lists where a secret was found.
   */
  async scan(dataSource: DataSource, encryptionKey: Buffer, logs: string[]): Promise<LeakReport> {
    const crypto = new SecretCrypto(encryptionKey);
    // A test that took the database away (readiness) leaves only the responses and logs to scan.
    const open = dataSource.isInitialized;
    const rows = (
      open ? await dataSource.query('SELECT user_id, group_key, service_key, name, ciphertext FROM user_secrets') : []
    ) as { user_id: string; group_key: string; service_key: string; name: string; ciphertext: string }[];
    for (const row of rows) {
      try {
        this.learn(crypto.decrypt(row.ciphertext, `${row.user_id}:${row.group_key}:${row.service_key}:${row.name}`));
      } catch {
        // A row written under another key (a test of exactly that) has no plaintext to look for.
      }
    }

    const sources: LeakSource[] = [
      ...this.responses,
      ...logs.map((text, i) => ({ kind: 'log' as const, where: `log line ${i + 1}`, text })),
      ...(open ? await databaseCells(dataSource) : []),
      ...processOutputs.map((p) => ({ kind: 'process' as const, where: p.name, text: p.output() })),
    ];
    const needles = [...this.values].flatMap((value) => {
      const escaped = JSON.stringify(value).slice(1, -1);
      return escaped === value ? [value] : [value, escaped];
    });
    const hits: string[] = [];
    for (const source of sources) {
      for (const needle of needles) {
        if (source.text.includes(needle)) {
          const secret = this.serverSecrets.includes(needle) ? 'a server key' : `a secret of ${needle.length} chars`;
          hits.push(`${source.kind} ${source.where}: ${secret} (${needle.slice(0, 3)}…)`);
        }
      }
    }
    processOutputs.length = 0;
    return {
      file: expect.getState().testPath ?? 'unknown',
      secrets: this.values.size,
      responses: this.responses.length,
      logLines: logs.length,
      dbCells: sources.filter((s) => s.kind === 'db').length,
      processOutputs: sources.filter((s) => s.kind === 'process').length,
      hits,
    };
  }
}

/** Every non-null cell of every table, as text (JSON columns and all). */
async function databaseCells(dataSource: DataSource): Promise<LeakSource[]> {
  const cells: LeakSource[] = [];
  for (const table of tableNames(dataSource)) {
    const rows = (await dataSource.query(`SELECT * FROM "${table}"`)) as Record<string, unknown>[];
    rows.forEach((row, i) => {
      for (const [column, value] of Object.entries(row)) {
        if (value === null || value === undefined) continue;
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        if (text) cells.push({ kind: 'db', where: `${table}.${column} row ${i + 1}`, text });
      }
    });
  }
  return cells;
}

function tableNames(dataSource: DataSource): string[] {
  return [...new Set(dataSource.entityMetadatas.map((m) => m.tableName))];
}

/** Appends the file's figures to LEAK_SCAN_REPORT (JSON lines), for the CI summary. */
export function recordLeakReport(report: LeakReport): void {
  const file = process.env.LEAK_SCAN_REPORT;
  if (file) fs.appendFileSync(file, `${JSON.stringify(report)}\n`);
}
