import { EventEmitter2 } from '@nestjs/event-emitter';
import { Client } from 'pg';
import type { AppEventMap } from '../src/common/events/app-events';
import { loadConfig } from '../src/config/app-config';
import { PgEventRelay } from '../src/events/pg-event-relay';
import { scratchDatabase, TEST_SECRETS } from './utils/app';
import { waitFor } from './utils/wait';

// Processes sharing one database is the PostgreSQL deployment; on SQLite the relay does nothing.
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres('the event relay between processes (LISTEN/NOTIFY)', () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  const relays: PgEventRelay[] = [];
  let tap: Client;
  const notifications: string[] = [];

  beforeAll(async () => {
    db = await scratchDatabase();
    tap = new Client({ connectionString: db.url });
    await tap.connect();
    await tap.query('LISTEN runloom_events');
    tap.on('notification', (message) => notifications.push(message.payload ?? ''));
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.onApplicationShutdown()));
    await tap.end();
    await db.drop();
  });

  it('delivers every event to the other process in emit order, node events packed small', async () => {
    // Two processes' relays: each with its own event emitter, as each process has.
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, ...TEST_SECRETS });
    const [here, there] = [new EventEmitter2(), new EventEmitter2()];
    relays.push(new PgEventRelay(here, config), new PgEventRelay(there, config));
    await Promise.all(relays.map((r) => r.onApplicationBootstrap()));
    const received: [string, unknown][] = [];
    there.onAny((name, payload) => received.push([name as string, payload]));

    const run = (n: number) => ({
      runId: `00000000-0000-4000-8000-00000000000${n}`,
      workflowId: '11111111-1111-4111-8111-111111111111',
      workspaceId: n === 2 ? null : '22222222-2222-4222-8222-222222222222',
      ownerId: '33333333-3333-4333-8333-333333333333',
    });
    const sent: [string, unknown][] = [];
    const emit = <K extends keyof AppEventMap>(name: K, payload: AppEventMap[K]) => {
      sent.push([name, payload]);
      here.emit(name, payload);
    };
    emit('run.started', { ...run(1), attempt: 1 });
    for (let i = 0; i < 600; i += 1) {
      const r = run(1 + (i % 2));
      emit('node.started', { ...r, nodeId: `f${i}`, nodeType: 'formatter' });
      emit('node.finished', { ...r, nodeId: `f${i}`, status: i === 599 ? 'failed' : 'succeeded' });
    }
    // Not compactable (an extra field): goes as it is.
    emit('node.finished', { ...run(1), nodeId: 'x', status: 'succeeded', extra: 1 } as AppEventMap['node.finished']);
    emit('run.finished', { ...run(1), status: 'failed', error: 'boom' });

    await waitFor(() => received.length === sent.length, `${sent.length} events in the other process`);
    expect(received).toEqual(sent);
    // 1,202 node events: about 40 bytes each on the wire, not the 230 of their full form.
    const bytes = notifications.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    expect(bytes).toBeLessThan(1_202 * 60);
    expect(notifications.length).toBeLessThanOrEqual(Math.ceil(bytes / 6_000) + 2);
  });
});
