import type { OutboundHttp } from '../../egress/outbound-http';
import { NodeError, type GraphNode, type NodeContext, type NodeResult } from '../node-types';
import { DelayNode } from './delay.node';

const NOW = new Date('2030-06-15T12:00:00.000Z');

function nodeContext(now = NOW): NodeContext {
  return {
    context: {},
    run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
    signal: new AbortController().signal,
    http: {} as unknown as OutboundHttp,
    now: () => now,
  };
}

function delay(config: unknown): GraphNode {
  return { id: 'delay-1', type: 'delay', data: { config } };
}

const run = (config: unknown, random: () => number = () => 0): Promise<NodeResult> =>
  new DelayNode(random).execute(delay(config), nodeContext());

const after = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('DelayNode (docs/contract.md §5.8)', () => {
  it('duration_config_sums_components', async () => {
    const result = await run({ mode: 'duration', wait_for: { minutes: 30, hours: 2, days: 1 } });
    const total = 86_400 + 2 * 3600 + 1800;
    expect(result).toEqual({
      outputs: {
        resumeAt: '2030-06-16T14:30:00+00:00',
        delaySeconds: total,
        baseDelaySeconds: total,
        jitterAppliedSeconds: 0,
        mode: 'duration_or_absolute',
      },
      pauseUntil: after(total),
    });
  });

  it('absolute_timestamp_in_past_is_immediate', async () => {
    const result = await run({ mode: 'datetime', wait_until: '2030-06-15T11:55:00Z', jitter_seconds: 30 });
    expect(result).toEqual({
      outputs: { resumeAt: null, delaySeconds: 0, jitterAppliedSeconds: 0, mode: 'duration' },
    });
    expect(result.pauseUntil).toBeUndefined();
  });

  describe('jitter_applies_when_delay_present', () => {
    it.each([
      [0, 0],
      [0.5, 3],
      [0.999999, 5],
      [1, 5],
    ])('random %p over [0, 5] → %p seconds', async (random, jitter) => {
      const result = await run({ mode: 'duration', wait_for: { minutes: 1 }, jitter_seconds: 5 }, () => random);
      expect(result.outputs).toMatchObject({
        delaySeconds: 60 + jitter,
        baseDelaySeconds: 60,
        jitterAppliedSeconds: jitter,
      });
      expect(result.pauseUntil).toEqual(after(60 + jitter));
    });

    it('is not applied when there is nothing to wait for', async () => {
      const random = jest.fn(() => 0.9);
      const result = await run({ wait_for: { minutes: 0 }, jitter_seconds: 10 }, random);
      expect(result.outputs).toEqual({ resumeAt: null, delaySeconds: 0, jitterAppliedSeconds: 0, mode: 'duration' });
      expect(random).not.toHaveBeenCalled();
    });
  });

  it('wait_until_datetime_calculates_delay', async () => {
    const result = await run({ mode: 'datetime', wait_until: '2030-06-15T12:10:00Z' });
    expect(result.outputs).toEqual({
      resumeAt: '2030-06-15T12:10:00+00:00',
      delaySeconds: 600,
      baseDelaySeconds: 600,
      jitterAppliedSeconds: 0,
      mode: 'duration_or_absolute',
    });
    expect(result.pauseUntil).toEqual(after(600));
  });

  it('reads wait_until offsets and keeps sub-second precision in resumeAt', async () => {
    const result = await run({ mode: 'datetime', wait_until: '2030-06-15T14:00:01.250+02:00' });
    expect(result.outputs).toMatchObject({ delaySeconds: 1, resumeAt: '2030-06-15T12:00:01.250+00:00' });
    expect(result.pauseUntil).toEqual(new Date('2030-06-15T12:00:01.250Z'));
  });

  describe('zero_wait_modes_error', () => {
    it.each([
      ['duration without wait_for', { mode: 'duration' }, 'Configure a duration before continuing'],
      ['duration of zero', { mode: 'duration', wait_for: { minutes: 0, hours: 0 } }, 'Configure a duration'],
      ['duration ignoring wait_until', { mode: 'duration', wait_until: '2030-06-16T00:00:00Z' }, 'duration'],
      [
        'datetime without wait_until',
        { mode: 'datetime', wait_for: { minutes: 5 } },
        'Configure a valid target datetime before continuing',
      ],
      ['auto with neither', {}, 'Configure either a wait duration or an absolute datetime'],
      [
        'auto with a blank wait_until',
        { wait_until: '  ' },
        'Configure either a wait duration or an absolute datetime',
      ],
    ])('%s', async (_name, config, message) => {
      const error = await run(config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NodeError);
      expect((error as Error).message).toContain(message);
    });
  });

  describe('auto mode', () => {
    it('waits for the longer of the duration and the target', async () => {
      const longer = await run({ mode: 'anything', wait_for: { minutes: 5 }, wait_until: '2030-06-15T12:30:00Z' });
      expect(longer.outputs).toMatchObject({ delaySeconds: 1800, baseDelaySeconds: 1800 });
      const shorter = await run({ wait_for: { hours: 1 }, wait_until: '2030-06-15T12:30:00Z' });
      expect(shorter.outputs).toMatchObject({ delaySeconds: 3600 });
    });

    it('continues at once for a past target only', async () => {
      const result = await run({ wait_until: '2020-01-01T00:00:00Z' });
      expect(result.outputs).toEqual({ resumeAt: null, delaySeconds: 0, jitterAppliedSeconds: 0, mode: 'duration' });
    });
  });

  it('uses the engine clock, not the wall clock', async () => {
    const early = new Date('2001-01-01T00:00:00Z');
    const result = await new DelayNode(() => 0).execute(
      delay({ mode: 'datetime', wait_until: '2001-01-01T00:01:00Z' }),
      nodeContext(early),
    );
    expect(result.outputs).toMatchObject({ delaySeconds: 60, resumeAt: '2001-01-01T00:01:00+00:00' });
  });

  describe('invalid configuration', () => {
    it.each([
      ['missing config', undefined],
      ['a non-object', 'wait'],
      ['an array', []],
      ['a non-string mode', { mode: 3, wait_for: { minutes: 1 } }],
      ['wait_for not an object', { wait_for: 5 }],
      ['negative minutes', { wait_for: { minutes: -1 } }],
      ['fractional hours', { wait_for: { hours: 1.5 } }],
      ['string days', { wait_for: { days: '1' } }],
      ['an unparsable wait_until', { wait_until: 'tomorrow' }],
      ['wait_until without an offset', { wait_until: '2030-06-16T00:00:00' }],
      ['a numeric wait_until', { wait_until: 1_900_000_000 }],
      ['negative jitter', { wait_for: { minutes: 1 }, jitter_seconds: -2 }],
    ])('%s', async (_name, config) => {
      await expect(run(config)).rejects.toThrow(new NodeError('Invalid delay config: Invalid delay configuration'));
    });

    it('rejects durations beyond what a date can hold', async () => {
      await expect(run({ wait_for: { days: 1e15 } })).rejects.toThrow('Delay duration is too large');
    });
  });
});
