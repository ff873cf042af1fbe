/**
 * How a polling loop waits: `sleep` until the poll interval passes or `wake` is called. A wake-up
 * that comes while the loop is busy is kept, and the next `sleep` returns at once: work announced
 * mid-round is never left for a whole poll interval.
 */
export class LoopSignal {
  private wakeUp: (() => void) | null = null;
  private woken = false;

  /** Up to `ms`; not at all when woken since the last sleep. */
  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return this.wait(ms);
  }

  /** Up to `ms`, whatever came before (a back-off after an error); a wake-up still ends it. */
  pause(ms: number): Promise<void> {
    this.woken = false;
    return this.wait(ms);
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    if (wake) wake();
    else this.woken = true;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        // Spent: a wake-up after this is kept for the next sleep instead.
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
