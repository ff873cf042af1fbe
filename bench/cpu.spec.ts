import { spawn } from 'node:child_process';
import { cpuBetween, perUnit, readCpu } from './cpu';

/** Busy work the kernel will have accounted for by the next reading. */
function burn(ms: number): void {
  const until = process.cpuUsage().user / 1000 + ms;
  while (process.cpuUsage().user / 1000 < until) Math.sqrt(Math.random());
}

describe('deployment CPU from /proc', () => {
  const linux = process.platform === 'linux';

  (linux ? it : it.skip)('counts what a process burned between two readings', () => {
    const before = readCpu([process.pid]);
    burn(200);
    const cost = cpuBetween(before, readCpu([process.pid]));
    // Clock ticks are 10 ms: the difference is the burn give or take a tick or two.
    expect(cost.runloomMs).toBeGreaterThanOrEqual(170);
    expect(cost.postgresMs).toBe(0);
    expect(cost.totalMs).toBe(cost.runloomMs);
  });

  (linux ? it : it.skip)('counts a descendant that started after the first reading', async () => {
    const before = readCpu([process.pid]);
    const child = spawn(process.execPath, [
      '-e',
      'const t = process.cpuUsage().user + 300000; while (process.cpuUsage().user < t); setInterval(() => {}, 1000)',
    ]);
    try {
      // Poll (no sleeping) until the child has burned its share and is idling.
      const deadline = Date.now() + 20_000;
      let childMs = 0;
      while (Date.now() < deadline && childMs < 280) {
        await new Promise((r) => setImmediate(r));
        childMs = readCpu([process.pid]).runloom.get(child.pid!) ?? 0;
      }
      const after = readCpu([process.pid]);
      expect(after.runloom.has(child.pid!)).toBe(true);
      expect(before.runloom.has(child.pid!)).toBe(false);
      expect(cpuBetween(before, after).runloomMs).toBeGreaterThanOrEqual(280);
    } finally {
      child.kill();
    }
  });

  it('gives the cost per unit, and NaN when nothing was counted', () => {
    expect(perUnit(1234, 1000)).toBe(1.23);
    expect(perUnit(0, 10)).toBeNaN();
    expect(perUnit(100, 0)).toBeNaN();
  });
});
