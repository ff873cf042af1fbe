import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** What the main thread tells each engine thread when it starts (piscina's `workerData`). */
export interface ThreadSettings {
  /** Scheduling niceness of the thread (0 to 19); 0 leaves it as the process's. */
  nice: number;
}

/**
 * Lowers the calling thread's scheduling priority, so that when untrusted work keeps every core
 * busy the kernel still gives the main thread (HTTP, SSE, heartbeats, every database write) the CPU
 * first. Linux keeps a nice value per thread: `setpriority` with the thread's own id changes only
 * that thread. Elsewhere there is no thread id to name, and the threads keep the process's priority.
 * Returns whether the priority was changed.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (nice <= 0) return false;
  let tid: number;
  try {
    // "<pid>/task/<tid>"
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return false;
  }
  if (!Number.isInteger(tid) || tid <= 0) return false;
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    // A container that forbids it: the threads keep the process's priority.
    return false;
  }
}
