import { RunState } from './run-state';

const text = (frame: { body: Buffer } | null) => frame?.body.toString() ?? null;

describe('RunState frames', () => {
  const state = new RunState(200, 300, '{"status":"running"}', '[{"node_id":"a"}]');

  it('sends a client that saw nothing both events, ids carrying the version reached', () => {
    expect(text(state.framesSince(0, 0))).toBe(
      'event: run\nid: 200.0\ndata: {"status":"running"}\n\n' +
        'event: node_runs\nid: 200.300\ndata: [{"node_id":"a"}]\n\n',
    );
  });

  it('sends only what changed since the client’s version, and nothing when it is current', () => {
    expect(text(state.framesSince(200, 100))).toBe('event: node_runs\nid: 200.300\ndata: [{"node_id":"a"}]\n\n');
    expect(text(state.framesSince(100, 300))).toBe('event: run\nid: 200.300\ndata: {"status":"running"}\n\n');
    expect(state.framesSince(200, 300)).toBeNull();
    // A Last-Event-ID from the future (or another run) gets nothing rather than a step back.
    expect(state.framesSince(900, 900)).toBeNull();
  });

  it('shares one frame between the clients that were at the same version', () => {
    expect(state.framesSince(150, 250)).toBe(state.framesSince(150, 250));
  });
});
