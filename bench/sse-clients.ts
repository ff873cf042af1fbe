/**
 * One client process of the SSE benchmark (bench/sse.ts forks several, so the load generator is
 * not a single event loop parsing every frame). Opens its share of connections to one run stream
 * and reports, over IPC, how many are held and each event's latency.
 *
 * Latency is read from the event id, which is the run's state version `<run ms>.<node runs ms>`:
 * a `run` event is late by now − run ms, a `node_runs` event by now − node runs ms. No JSON is
 * parsed, so a client costs the frame scan only.
 */
import * as net from 'node:net';

interface Start {
  port: number;
  path: string;
  token: string;
  count: number;
  /** Connections being opened at once. */
  parallel: number;
}

export type ClientReport =
  | { kind: 'progress'; connected: number; finished: number }
  | { kind: 'recording' }
  | { kind: 'latencies'; values: number[] };

const sockets: net.Socket[] = [];
const latencies: number[] = [];
let connected = 0;
let finished = 0;
let recording = false;

function send(report: ClientReport): void {
  process.send!(report);
}

/**
 * A raw socket speaking just enough HTTP/1.1: Node's http client (parser, decoder, streams) cost
 * the shared CPU more per frame than the server spends writing it, which the latency then showed.
 * Frames are split on the blank line; the chunk-size lines of the chunked body sit between
 * frames and are ignored by the line matches.
 */
function open(start: Start): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(start.port, '127.0.0.1', () => {
      socket.write(
        `GET ${start.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n` +
          `Authorization: Bearer ${start.token}\r\n\r\n`,
      );
    });
    let buffer = '';
    let headersDone = false;
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      const now = Date.now();
      buffer += chunk.toString('latin1');
      if (!headersDone) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        headersDone = true;
        buffer = buffer.slice(end + 4);
      }
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (first) {
          // The first frame (the state on connect) is the proof the stream is open.
          first = false;
          connected += 1;
          resolve();
          continue;
        }
        const type = /^event: (\w+)$/m.exec(frame)?.[1];
        const id = /^id: (\d+)\.(\d+)$/m.exec(frame);
        // Only changes made after the parent said go: the state a client got on connect is old.
        if (!type || !id || !recording) continue;
        latencies.push(now - Number(type === 'run' ? id[1] : id[2]));
        if (type === 'run' && frame.includes('"status":"succeeded"')) finished += 1;
      }
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    sockets.push(socket);
  });
}

async function run(start: Start): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < start.count) {
      next += 1;
      await open(start);
    }
  };
  setInterval(() => send({ kind: 'progress', connected, finished }), 100).unref();
  await Promise.all(Array.from({ length: start.parallel }, lane));
}

process.on('message', (message: { start?: Start; go?: true; collect?: true }) => {
  if (message.start) void run(message.start);
  if (message.go) {
    recording = true;
    send({ kind: 'recording' });
  }
  if (message.collect) {
    send({ kind: 'latencies', values: latencies });
  }
});
process.on('disconnect', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
