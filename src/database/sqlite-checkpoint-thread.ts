/**
 * Entry of the SQLite checkpoint thread (see SqliteCheckpointer): its own connection to the
 * database file copies what the write-ahead log holds into the database, and syncs it, every few
 * hundred milliseconds, so the main thread's commits never do it.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointSettings {
  path: string;
  everyMs: number;
}

/** What `PRAGMA wal_checkpoint` answers: frames in the log, frames copied, whether it had to stop short. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const { path, everyMs } = workerData as CheckpointSettings;
const db = new Database(path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');

// PASSIVE never waits for the main thread's readers or writer: it copies what it can now.
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    parentPort!.postMessage({ type: 'checkpoint', result });
  } catch (error) {
    parentPort!.postMessage({ type: 'error', message: (error as Error).message });
  }
}, everyMs);

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
