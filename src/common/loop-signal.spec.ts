import { LoopSignal } from './loop-signal';

describe('LoopSignal', () => {
  it('a wake-up ends a sleep at once', async () => {
    const signal = new LoopSignal();
    const slept = signal.sleep(60_000);
    signal.wake();
    await slept;
  });

  it('a wake-up while busy is kept: the next sleep returns at once, the one after waits again', async () => {
    jest.useFakeTimers();
    try {
      const signal = new LoopSignal();
      signal.wake();
      await signal.sleep(60_000);
      let done = false;
      void signal.sleep(1_000).then(() => (done = true));
      await Promise.resolve();
      expect(done).toBe(false);
      jest.advanceTimersByTime(1_000);
      await Promise.resolve();
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a wake-up after a sleep ran its course is not lost (the spent sleep does not swallow it)', async () => {
    jest.useFakeTimers();
    try {
      const signal = new LoopSignal();
      const first = signal.sleep(10);
      jest.advanceTimersByTime(10);
      await first;
      signal.wake();
      let done = false;
      void signal.sleep(60_000).then(() => (done = true));
      await Promise.resolve();
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('pause ignores an earlier wake-up but not a later one', async () => {
    jest.useFakeTimers();
    try {
      const signal = new LoopSignal();
      signal.wake();
      let done = false;
      const paused = signal.pause(1_000).then(() => (done = true));
      await Promise.resolve();
      expect(done).toBe(false);
      signal.wake();
      await paused;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
