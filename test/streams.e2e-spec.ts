import { EventEmitter2 } from '@nestjs/event-emitter';
import { EventSource } from 'eventsource';
import * as http from 'node:http';
import request from 'supertest';
import { RunRepository } from '../src/database/repositories/run.repository';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { graph, trigger, uniqueName } from './factories/workflow.factory';
import { signupAndLogin, Browser } from './factories/user.factory';

interface Received {
  type: string;
  data: unknown;
  id: string;
}

/** A real EventSource with the browser's cookie (EventSource cannot send other headers). */
function open(url: string, cookie: string, lastEventId?: string) {
  const received: Received[] = [];
  const source = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          Cookie: cookie,
          ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}),
        },
      }),
  });
  for (const type of ['status', 'tick', 'runs', 'run', 'node_runs', 'workflow', 'error']) {
    source.addEventListener(type, (event) =>
      received.push({ type, data: event.data ? JSON.parse(event.data) : null, id: event.lastEventId }),
    );
  }
  return { source, received };
}

describe('live streams over SSE (docs/contract.md §11)', () => {
  let t: TestApp;
  let target: TargetServer;
  let browser: Browser;
  let cookie: string;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({
      WORKER_POLL_INTERVAL_MS: '20',
      SSE_KEEPALIVE_MS: '200',
      WORKER_HEARTBEAT_INTERVAL_MS: '50',
    });
    browser = await signupAndLogin(t.url);
    await browser.agent
      .post('/api/workspaces/plan')
      .set('x-csrf-token', browser.csrf)
      .send({ plan_tier: 'workspace' })
      .expect(200);
    const jar = browser.agent.jar.getCookies({ domain: '127.0.0.1', path: '/', secure: false, script: false });
    cookie = jar.toValueString();
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  async function holdingWorkflow(key: string) {
    const data = graph(
      [
        trigger(),
        {
          id: 'h',
          type: 'actionHttp',
          data: { label: 'Hold', actionType: 'http', params: { url: `${target.url}/hold/${key}`, method: 'GET' } },
        },
      ],
      [['trigger-1', 'h']],
    );
    const ws = (await browser.agent.get('/api/workspaces')).body.workspaces[0].workspace.id;
    return (
      await browser.agent
        .post('/api/workflows')
        .set('x-csrf-token', browser.csrf)
        .send({ name: uniqueName(), data, workspace_id: ws })
        .expect(201)
    ).body.workflow;
  }

  it('watches a run live: run and node_runs events as it progresses, each with an id', async () => {
    const wf = await holdingWorkflow('live');
    const run = (await browser.agent.post(`/api/workflows/${wf.id}/run`).set('x-csrf-token', browser.csrf).expect(202))
      .body.run;
    const { source, received } = open(`${t.url}/api/workflows/${wf.id}/runs/${run.id}/events`, cookie);
    try {
      await waitFor(() => target.heldCount('live') === 1, 'the held node');
      await waitFor(
        () =>
          received.some(
            (e) => e.type === 'node_runs' && (e.data as { status: string }[]).some((n) => n.status === 'running'),
          ),
        'a running node',
      );
      target.release('live');
      const done = await waitFor(
        () => received.find((e) => e.type === 'run' && (e.data as { status: string }).status === 'succeeded'),
        'the succeeded run event',
      );
      expect(done.id).toMatch(/^\d+\.\d+$/);
      expect(received.every((e) => e.id)).toBe(true);
      const lastNodes = received.filter((e) => e.type === 'node_runs').pop()!.data as {
        node_id: string;
        status: string;
      }[];
      expect(lastNodes.map((n) => `${n.node_id}:${n.status}`)).toEqual(['trigger-1:succeeded', 'h:succeeded']);
    } finally {
      source.close();
    }
  });

  it('a heartbeat is not a change: the run version (updated_at, the event id) stays put', async () => {
    const wf = await holdingWorkflow('heartbeat');
    const run = (await browser.agent.post(`/api/workflows/${wf.id}/run`).set('x-csrf-token', browser.csrf).expect(202))
      .body.run;
    await waitFor(() => target.heldCount('heartbeat') === 1, 'the held node');
    const runs = t.app.get(RunRepository);
    const before = (await runs.findById(run.id))!;
    await waitFor(
      async () => (await runs.findById(run.id))!.heartbeatAt!.getTime() > before.heartbeatAt!.getTime(),
      'a heartbeat',
    );
    expect((await runs.findById(run.id))!.updatedAt.getTime()).toBe(before.updatedAt.getTime());
    target.release('heartbeat');
  });

  it('a reconnect with Last-Event-ID gets what it missed, and nothing twice', async () => {
    const wf = await holdingWorkflow('resume');
    const run = (await browser.agent.post(`/api/workflows/${wf.id}/run`).set('x-csrf-token', browser.csrf).expect(202))
      .body.run;
    await waitFor(() => target.heldCount('resume') === 1, 'the held node');
    const first = open(`${t.url}/api/workflows/${wf.id}/runs/${run.id}/events`, cookie);
    const seen = await waitFor(() => first.received.find((e) => e.type === 'node_runs'), 'a first state');
    const lastId = first.received[first.received.length - 1].id;
    first.source.close();
    expect(seen).toBeDefined();

    // Unchanged since the id: the reconnect sends nothing but keepalives.
    const quiet = open(`${t.url}/api/workflows/${wf.id}/runs/${run.id}/events`, cookie, lastId);
    await new Promise((resolve) => quiet.source.addEventListener('open', resolve));
    target.release('resume');
    await waitFor(
      async () => (await browser.agent.get(`/api/workflows/${wf.id}/runs/${run.id}`)).body.run.status === 'succeeded',
      'completion',
    );
    quiet.source.close();

    const again = open(`${t.url}/api/workflows/${wf.id}/runs/${run.id}/events`, cookie, lastId);
    try {
      const finished = await waitFor(() => again.received.find((e) => e.type === 'run'), 'the missed run update');
      expect((finished.data as { status: string }).status).toBe('succeeded');
      await waitFor(() => again.received.some((e) => e.type === 'node_runs'), 'the missed node update');
      expect(again.received.filter((e) => e.type === 'run')).toHaveLength(1);
    } finally {
      again.source.close();
    }
  });

  it('status and active-runs streams follow the queue', async () => {
    const wf = await holdingWorkflow('status');
    const status = open(`${t.url}/api/workflows/runs/events`, cookie);
    const active = open(`${t.url}/api/workflows/${wf.id}/runs/events-stream`, cookie);
    try {
      await waitFor(() => status.received.find((e) => e.type === 'status'), 'the first status');
      await waitFor(() => active.received.find((e) => e.type === 'runs'), 'the first runs list');
      expect(active.received[0].data).toEqual([]);
      const run = (
        await browser.agent.post(`/api/workflows/${wf.id}/run`).set('x-csrf-token', browser.csrf).expect(202)
      ).body.run;
      await waitFor(
        () => status.received.some((e) => e.type === 'status' && (e.data as { has_running: boolean }).has_running),
        'has_running',
      );
      await waitFor(
        () =>
          active.received.some(
            (e) =>
              e.type === 'runs' &&
              (e.data as { id: string; status: string }[]).some((r) => r.id === run.id && r.status === 'running'),
          ),
        'the running run',
      );
      // The run is `running` before its HTTP call reaches the server: release only once it is held.
      await waitFor(() => target.heldCount('status') === 1, 'the held call');
      target.release('status');
      await waitFor(
        () => active.received.some((e, i) => i > 0 && e.type === 'runs' && (e.data as unknown[]).length === 0),
        'an empty list again',
      );
      await waitFor(() => status.received.some((e) => e.type === 'tick'), 'a tick');
    } finally {
      status.source.close();
      active.source.close();
    }
  });

  it('the workflow stream sends the document, its changes, and an error when it is deleted', async () => {
    const wf = await holdingWorkflow('doc');
    const { source, received } = open(`${t.url}/api/workflows/${wf.id}/events`, cookie);
    try {
      await waitFor(() => received.find((e) => e.type === 'workflow'), 'the document');
      await browser.agent
        .put(`/api/workflows/${wf.id}`)
        .set('x-csrf-token', browser.csrf)
        .send({ name: 'renamed', data: wf.data, updated_at: wf.updated_at })
        .expect(200);
      await waitFor(
        () => received.find((e) => e.type === 'workflow' && (e.data as { name: string }).name === 'renamed'),
        'the change',
      );
      await browser.agent.delete(`/api/workflows/${wf.id}`).set('x-csrf-token', browser.csrf).expect(200);
      const gone = await waitFor(() => received.find((e) => e.type === 'error'), 'the error event');
      expect(gone.data).toEqual({ error: 'workflow_not_found' });
    } finally {
      source.close();
    }
  });

  it('answers 404 in JSON before opening a stream the caller may not see; 401 without a session', async () => {
    const wf = await holdingWorkflow('hidden');
    const stranger = await signupAndLogin(t.url);
    const res = await stranger.agent.get(`/api/workflows/${wf.id}/runs/events-stream`).expect(404);
    expect(res.body).toMatchObject({ success: false, message: 'Workflow not found' });
    await request(t.url).get('/api/workflows/runs/events').expect(401);
  });

  it('sends keepalive comments and leaves no listeners behind after many connect/disconnect cycles', async () => {
    const wf = await holdingWorkflow('cycles');
    const emitter = t.app.get(EventEmitter2);
    const baseline = emitter.listenerCount('run.finished');
    const url = new URL(`${t.url}/api/workflows/${wf.id}/runs/events-stream`);
    const connect = (readKeepalive: boolean) =>
      new Promise<string>((resolve, reject) => {
        const req = http.get(url, { headers: { Cookie: cookie } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (!readKeepalive || text.includes(': keepalive')) {
              req.destroy();
              resolve(text);
            }
          });
        });
        req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      });
    expect(await connect(true)).toContain(': keepalive');
    for (let i = 0; i < 300; i += 1) await connect(false);
    await waitFor(() => emitter.listenerCount('run.finished') === baseline, 'listeners to be released');
  });
});
