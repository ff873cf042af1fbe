import { encodeEvent, encodeEvents, SseFrame } from './sse-writer';

describe('event-stream encoding', () => {
  it('writes the fields of the W3C format, JSON-encoding object data', () => {
    const frame = encodeEvent({ type: 'run', id: '1.2', data: { a: 1 } });
    expect(frame.body.toString()).toBe('event: run\nid: 1.2\ndata: {"a":1}\n\n');
    expect(encodeEvent({ comment: 'keepalive' } as never).body.toString()).toBe(': keepalive\n\n');
  });

  it('splits multi-line data into data lines and keeps type and id on one line', () => {
    const frame = encodeEvent({ type: 'x\ndata: injected', id: '7\r\n', data: 'one\ntwo\r\nthree' });
    expect(frame.body.toString()).toBe('event: xdata: injected\nid: 7\ndata: one\ndata: two\ndata: three\n\n');
  });

  it('encodes an event object once, however many clients it goes to', () => {
    const event = { type: 'tick', data: {} };
    expect(encodeEvent(event)).toBe(encodeEvent(event));
  });

  it('puts several events in one frame', () => {
    const frame = encodeEvents([
      { type: 'run', id: '2.1', data: '{}' },
      { type: 'node_runs', id: '2.3', data: '[]' },
    ]);
    expect(frame.body.toString()).toBe('event: run\nid: 2.1\ndata: {}\n\nevent: node_runs\nid: 2.3\ndata: []\n\n');
  });

  it('frames a chunk of a chunked body with its hexadecimal length', () => {
    const body = Buffer.from('x'.repeat(300));
    const chunk = new SseFrame(body).chunked().toString();
    expect(chunk).toBe(`12c\r\n${'x'.repeat(300)}\r\n`);
  });
});
