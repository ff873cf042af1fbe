/**
 * Preloaded into a benchmark server (`-r`, with BENCH_CPU_PROFILE=<dir>), never into the
 * application: profiles the process from start to SIGTERM and writes a .cpuprofile, which
 * `--cpu-prof` cannot do here because the shutdown hooks end the process by re-raising the signal.
 */
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  process.prependListener('SIGTERM', () => {
    // An in-process session answers synchronously, so the file is written before shutdown goes on.
    session.post('Profiler.stop', (error, result) => {
      if (!error) fs.writeFileSync(path.join(dir, `runloom-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
