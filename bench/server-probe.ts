/**
 * Preloaded into the benchmark's server process (`-r`), never into the application. Answers the
 * parent's messages: `probe` with memory after a full GC and the live handles by kind (a leak
 * shows as growth between two probes rather than as RSS noise); `profile-start`/`profile-stop`
 * with a CPU profile of just that phase (BENCH_SSE_PROFILE=<dir>); `heap-snapshot` with a heap
 * snapshot written to BENCH_SSE_HEAP_SNAPSHOT=<dir>; `exit`.
 */
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';
import * as v8 from 'node:v8';

let session: inspector.Session | null = null;

process.on('message', (message: unknown) => {
  if (message === 'exit') process.exit(0);
  if (message === 'profile-start') {
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable', () => session!.post('Profiler.start', () => process.send!({ profiling: true })));
  }
  if (message === 'profile-stop' && session) {
    session.post('Profiler.stop', (error, result) => {
      const dir = process.env.BENCH_SSE_PROFILE ?? '.';
      const file = path.join(dir, `sse-${Date.now()}.cpuprofile`);
      if (!error) fs.writeFileSync(file, JSON.stringify(result.profile));
      session!.disconnect();
      session = null;
      process.send!({ profiled: error ? String(error) : file });
    });
  }
  if (message === 'heap-snapshot') {
    const dir = process.env.BENCH_SSE_HEAP_SNAPSHOT ?? '.';
    process.send!({ heapSnapshot: v8.writeHeapSnapshot(path.join(dir, `sse-${Date.now()}.heapsnapshot`)) });
  }
  if (message !== 'probe') return;
  (global as unknown as { gc?: () => void }).gc?.();
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  const memory = process.memoryUsage();
  process.send!({
    probe: { heapUsedKB: Math.round(memory.heapUsed / 1024), rssKB: Math.round(memory.rss / 1024), resources },
  });
});
