/**
 * CPU time of a whole deployment from /proc, the benchmark's machine-independent cost figure: the
 * seconds a scenario takes vary with whatever else the machine does, the CPU it burns per run much
 * less so. Counted per scenario as a difference of two readings:
 * - the Runloom processes and every descendant (a live one's own time, plus `cutime`/`cstime` for
 *   those already reaped), main thread and worker threads alike;
 * - PostgreSQL: the backends serving the deployment's database and the server's background processes
 *   (WAL writer, checkpointer, background writer, autovacuum), which work for those writes too.
 *   Backends of other databases are left out, and so is the benchmark's own polling connection,
 *   which never lives from one reading to the next; the background processes work for every
 *   database of the server, so nothing else should load it during a benchmark.
 * Linux only; elsewhere every reading is empty and the figures print as "n/a".
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface CpuReading {
  /** Milliseconds of CPU per pid at the time of reading. */
  runloom: Map<number, number>;
  postgres: Map<number, number>;
}

export interface CpuCost {
  runloomMs: number;
  postgresMs: number;
  totalMs: number;
}

const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, and the same of reaped children, in milliseconds. */
  ownMs: number;
  childrenMs: number;
}

function stat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5): ppid is 4, utime 14, stime 15, cutime 16, cstime 17.
  const ms = (i: number) => (Number(fields[i - 3]) * 1000) / TICKS_PER_S;
  return { pid, ppid: Number(fields[4 - 3]), comm, ownMs: ms(14) + ms(15), childrenMs: ms(16) + ms(17) };
}

function allStats(): Stat[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map((e) => stat(Number(e)))
    .filter((s): s is Stat => s !== null);
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Reads the CPU of `roots` and their descendants, and of PostgreSQL as it works for `database`. */
export function readCpu(roots: number[], database?: string): CpuReading {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const runloom = new Map<number, number>();
  const visit = (s: Stat) => {
    runloom.set(s.pid, s.ownMs + s.childrenMs);
    for (const c of children.get(s.pid) ?? []) visit(c);
  };
  for (const pid of roots) {
    const s = byPid.get(pid);
    if (s) visit(s);
  }
  const postgres = new Map<number, number>();
  if (database) {
    for (const s of stats) {
      if (s.comm !== 'postgres') continue;
      const args = cmdline(s.pid);
      // A backend's title is "postgres: [cluster: ]user database host(port) state"; the postmaster's
      // own line has no "postgres:" title and its cutime holds every reaped backend of any database.
      if (!args.startsWith('postgres:')) continue;
      const background = /(checkpointer|background writer|walwriter|autovacuum|logical replication)/.test(args);
      if (background || args.includes(` ${database} `)) postgres.set(s.pid, s.ownMs);
    }
  }
  if (database && ![...postgres.keys()].some((pid) => cmdline(pid).includes(` ${database} `))) {
    // PostgreSQL on another host, or its processes out of sight: say so rather than print 0 ms.
    console.warn(`bench/cpu: no PostgreSQL backend of ${database} is visible in /proc; its CPU is not counted`);
  }
  return { runloom, postgres };
}

const sum = (readings: Map<number, number>) => [...readings.values()].reduce((a, b) => a + b, 0);

/** What the processes alive at the second reading spent since the first (new ones: all of it). */
function sinceFirst(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** The CPU spent between two readings of the same deployment. */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuCost {
  // A Runloom process reaped in between moved its whole time into its parent's cutime, so the tree's
  // totals are compared. A PostgreSQL backend that exited took its time to the postmaster, which is
  // not counted (it holds every database's): only the backends still alive count.
  const runloomMs = Math.round(sum(after.runloom) - sum(before.runloom));
  const postgresMs = Math.round(sinceFirst(before.postgres, after.postgres));
  return { runloomMs, postgresMs, totalMs: runloomMs + postgresMs };
}

/** Milliseconds of CPU per unit (run, request), to two decimals; NaN when nothing was counted. */
export function perUnit(ms: number, units: number): number {
  return units > 0 && ms > 0 ? Math.round((ms / units) * 100) / 100 : NaN;
}
