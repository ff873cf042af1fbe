import { TokenBuckets } from './rate-limit';

describe('TokenBuckets', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('allows a burst, then refills at the configured rate', () => {
    const buckets = new TokenBuckets(2 / 1000, 3, clock); // 2 per second, burst 3
    expect([1, 2, 3, 4].map(() => buckets.take('ip').allowed)).toEqual([true, true, true, false]);
    const denied = buckets.take('ip');
    expect(denied.retryAfterMs).toBeCloseTo(500);
    now += 500;
    expect(buckets.take('ip').allowed).toBe(true);
    expect(buckets.take('ip').allowed).toBe(false);
  });

  it('keeps clients apart', () => {
    const buckets = new TokenBuckets(1 / 1000, 1, clock);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
  });

  it('never exceeds the burst however long a client was idle', () => {
    const buckets = new TokenBuckets(1 / 1000, 2, clock);
    buckets.take('a');
    now += 3_600_000;
    expect(buckets.take('a').remaining).toBe(1);
  });

  it('sweeps buckets that have refilled, so memory follows active clients only', () => {
    const buckets = new TokenBuckets(1 / 1000, 2, clock);
    buckets.take('a');
    buckets.take('b');
    buckets.take('b');
    now += 1_500;
    buckets.sweep();
    expect(buckets.size).toBe(1); // 'a' is full again; 'b' still owes half a token
    now += 1_000;
    buckets.sweep();
    expect(buckets.size).toBe(0);
  });
});
