import { Retention } from './retention';

describe('Retention', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('runs every registered task once and reports the rows each deleted', async () => {
    const retention = new Retention();
    const seen: Date[] = [];
    retention.register({ name: 'a', prune: async (at) => (seen.push(at), 3) });
    retention.register({ name: 'b', prune: async () => 0 });
    expect(await retention.pruneAll(now)).toEqual({ a: 3, b: 0 });
    expect(seen).toEqual([now]);
  });

  it('a failing task is left out of the report and does not stop the others', async () => {
    const retention = new Retention();
    retention.register({ name: 'broken', prune: () => Promise.reject(new Error('database gone')) });
    retention.register({ name: 'fine', prune: async () => 1 });
    expect(await retention.pruneAll(now)).toEqual({ fine: 1 });
  });

  it('refuses a second task under the same name', () => {
    const retention = new Retention();
    retention.register({ name: 'runs', prune: async () => 0 });
    expect(() => retention.register({ name: 'runs', prune: async () => 0 })).toThrow(/registered twice/);
  });
});
