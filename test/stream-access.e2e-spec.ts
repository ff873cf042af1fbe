import { EventSource } from 'eventsource';
import * as http from 'node:http';
import request from 'supertest';
import { Clock } from '../src/common/clock';
import { createTestApp, TestApp } from './utils/app';
import { FakeClock } from './utils/clock';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { bearerToken, Browser, signupAndLogin } from './factories/user.factory';
import { Actor, actor, addMember, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/**
 * Live streams follow access (SECURITY.md): a stream closes, or stops showing what its caller may
 * no longer see, within a second of a logout, a session's expiry, an API key's revocation or
 * expiry, a member's removal or departure. Each case is measured from the moment the change was
 * asked for to the moment the EventSource saw its connection end.
 */

const END_WITHIN_MS = 1_000;
/** How long a test waits for an end before failing (the measurement is what asserts the second). */
const DEADLINE_MS = 2_000;

interface Received {
  type: string;
  data: unknown;
  at: number;
}

interface Stream {
  source: EventSource;
  received: Received[];
  /** When the connection ended or was refused (an EventSource `error` without data). */
  droppedAt?: number;
}

/** A real EventSource sending `headers` (a Cookie or an Authorization header). */
function open(url: string, headers: Record<string, string>): Stream {
  const stream: Stream = {
    received: [],
    source: new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
    }),
  };
  for (const type of ['status', 'tick', 'runs', 'run', 'node_runs', 'workflow']) {
    stream.source.addEventListener(type, (event) =>
      stream.received.push({ type, data: event.data ? JSON.parse(event.data) : null, at: Date.now() }),
    );
  }
  stream.source.addEventListener('error', (event) => {
    const data = (event as MessageEvent).data as unknown;
    if (typeof data === 'string') stream.received.push({ type: 'error', data: JSON.parse(data), at: Date.now() });
    else stream.droppedAt ??= Date.now();
  });
  return stream;
}

const cookieOf = (browser: Browser) => ({
  Cookie: browser.agent.jar
    .getCookies({ domain: '127.0.0.1', path: '/', secure: false, script: false })
    .toValueString(),
});

/** The stream's first event (it is open and was allowed in). */
const opened = (s: Stream, type: string) => waitFor(() => s.received.find((e) => e.type === type), `a first ${type}`);

/** Waits for the stream to end, then checks it ended within END_WITHIN_MS of `from` and said why. */
async function expectEnded(s: Stream, from: number, what: string): Promise<number> {
  const at = await waitFor(() => s.droppedAt, `${what} to end`, DEADLINE_MS);
  expect(at - from).toBeLessThan(END_WITHIN_MS);
  expect(s.received.filter((e) => e.type === 'error').map((e) => e.data)).toEqual([{ error: 'access_revoked' }]);
  return at;
}

/** The events of `types` the stream received after `at`. */
const receivedAfter = (s: Stream, at: number, types: string[]) =>
  s.received.filter((e) => e.at > at && types.includes(e.type));

function closeAll(...streams: Stream[]): void {
  for (const s of streams) s.source.close();
}

describe('live streams follow access', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({
      WORKER_POLL_INTERVAL_MS: '20',
      SSE_KEEPALIVE_MS: '100',
      WORKER_HEARTBEAT_INTERVAL_MS: '50',
    });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  const holding = (key: string) =>
    graph(
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

  /** An owner with a workspace-plan workspace, a member of it in `role`, and a workflow holding on `key`. */
  async function team(key: string, role = 'user') {
    const owner = await actor(t.url);
    const workspaceId = await upgrade(t.url, owner);
    const member = await actor(t.url);
    await addMember(t.url, owner, workspaceId, member, role);
    const wf = await createWorkflow(t.url, owner, holding(key), workspaceId);
    return { owner, member, workspaceId, wf };
  }

  async function startRun(owner: Pick<Actor, 'auth'>, workflowId: string): Promise<{ id: string }> {
    return (await request(t.url).post(`/api/workflows/${workflowId}/run`).set(owner.auth).expect(202)).body.run;
  }

  async function finish(key: string, owner: Actor, workflowId: string, runId: string): Promise<void> {
    await waitFor(() => target.heldCount(key) === 1, 'the held call');
    target.release(key);
    await waitFor(
      async () =>
        (await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(owner.auth)).body.run.status ===
        'succeeded',
      'the run to finish',
    );
  }

  it('logout ends the streams of that session (cookie and bearer) within 1 s; a reconnect is refused', async () => {
    const browser = await signupAndLogin(t.url);
    const workspaceId = (await browser.agent.get('/api/workspaces').expect(200)).body.workspaces[0].workspace.id;
    const wf = (
      await browser.agent
        .post('/api/workflows')
        .set('x-csrf-token', browser.csrf)
        .send({ name: 'logout', data: holding('logout'), workspace_id: workspaceId })
        .expect(201)
    ).body.workflow;
    const cookie = cookieOf(browser);
    const active = open(`${t.url}/api/workflows/${wf.id}/runs/events-stream`, cookie);
    const doc = open(`${t.url}/api/workflows/${wf.id}/events`, cookie);
    const bearer = await bearerToken(t.url);
    const auth = { Authorization: `Bearer ${bearer.token}` };
    const status = open(`${t.url}/api/workflows/runs/events`, auth);
    try {
      await Promise.all([opened(active, 'runs'), opened(doc, 'workflow'), opened(status, 'status')]);

      const cookieLogout = Date.now();
      await browser.agent.post('/api/auth/logout').set('x-csrf-token', browser.csrf).expect(200);
      await expectEnded(active, cookieLogout, 'the active-runs stream');
      await expectEnded(doc, cookieLogout, 'the workflow stream');
      // Another user's stream is not touched by it.
      expect(status.droppedAt).toBeUndefined();

      const bearerLogout = Date.now();
      await request(t.url).post('/api/auth/logout').set(auth).expect(200);
      await expectEnded(status, bearerLogout, 'the bearer session status stream');

      const refused = await request(t.url).get(`/api/workflows/${wf.id}/runs/events-stream`).set(cookie).expect(401);
      expect(refused.body.message).toBe('Session expired');
      await request(t.url).get('/api/workflows/runs/events').set(auth).expect(401);
    } finally {
      closeAll(active, doc, status);
    }
  });

  it('revoking an API key ends its streams within 1 s (the response ends); the session streams stay', async () => {
    const owner = await actor(t.url);
    const workspaceId = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, holding('key'), workspaceId);
    const created = await request(t.url).post('/api/auth/api-keys').set(owner.auth).send({ name: 'ci' }).expect(201);
    const keyAuth = { Authorization: `Bearer ${created.body.token as string}` };
    const doc = open(`${t.url}/api/workflows/${wf.id}/events`, keyAuth);
    const sessionStatus = open(`${t.url}/api/workflows/runs/events`, owner.auth);
    // A plain HTTP client too: the response itself must end, not only the EventSource give up.
    let rawEndedAt: number | undefined;
    let rawText = '';
    const raw = http.get(`${t.url}/api/workflows/${wf.id}/runs/events-stream`, { headers: keyAuth }, (res) => {
      res.on('data', (chunk: Buffer) => (rawText += chunk.toString()));
      res.on('end', () => (rawEndedAt = Date.now()));
    });
    try {
      await Promise.all([opened(doc, 'workflow'), opened(sessionStatus, 'status')]);
      await waitFor(() => rawText.includes('event: runs'), 'the raw stream to open');

      const revokedAt = Date.now();
      await request(t.url)
        .delete(`/api/auth/api-keys/${created.body.api_key.id as string}`)
        .set(owner.auth)
        .expect(200);
      await expectEnded(doc, revokedAt, 'the workflow stream of the key');
      const ended = await waitFor(() => rawEndedAt, 'the raw response to end', DEADLINE_MS);
      expect(ended - revokedAt).toBeLessThan(END_WITHIN_MS);
      expect(rawText).toContain('event: error\n');
      expect(rawText).toContain('data: {"error":"access_revoked"}\n');

      // The owner's session is another credential: its stream keeps ticking.
      await waitFor(() => receivedAfter(sessionStatus, ended, ['tick']).length >= 2, 'ticks after the revocation');
      expect(sessionStatus.droppedAt).toBeUndefined();
      await request(t.url).get(`/api/workflows/${wf.id}/events`).set(keyAuth).expect(401);
    } finally {
      raw.destroy();
      closeAll(doc, sessionStatus);
    }
  });

  it('removing a member ends their workflow streams within 1 s; their status stream drops the workspace', async () => {
    const { owner, member, workspaceId, wf } = await team('removal');
    const memberStatus = open(`${t.url}/api/workflows/runs/events`, member.auth);
    const ownerStatus = open(`${t.url}/api/workflows/runs/events`, owner.auth);
    await Promise.all([opened(memberStatus, 'status'), opened(ownerStatus, 'status')]);
    const run = await startRun(owner, wf.id);
    const active = open(`${t.url}/api/workflows/${wf.id}/runs/events-stream`, member.auth);
    const detail = open(`${t.url}/api/workflows/${wf.id}/runs/${run.id}/events`, member.auth);
    const doc = open(`${t.url}/api/workflows/${wf.id}/events?workspace=${workspaceId}`, member.auth);
    const lastStatus = (s: Stream) =>
      s.received.filter((e) => e.type === 'status').pop()?.data as { has_running: boolean } | undefined;
    const running = (s: Stream, after = 0) =>
      s.received.some((e) => e.at > after && e.type === 'status' && (e.data as { has_running: boolean }).has_running);
    try {
      await Promise.all([opened(active, 'runs'), opened(detail, 'run'), opened(doc, 'workflow')]);
      // The member sees the workspace's run while a member.
      await waitFor(() => running(memberStatus), "the member's has_running");
      await waitFor(() => target.heldCount('removal') === 1, 'the held call');

      const removedAt = Date.now();
      await request(t.url)
        .delete(`/api/workspaces/${workspaceId}/members/${member.userId}`)
        .set(owner.auth)
        .expect(200);
      const ends = await Promise.all([
        expectEnded(active, removedAt, 'the active-runs stream'),
        expectEnded(detail, removedAt, 'the run stream'),
        expectEnded(doc, removedAt, 'the workflow stream'),
      ]);
      // The status stream stays open but stops counting the run it may no longer see (still held).
      const dropped = await waitFor(
        () =>
          memberStatus.received.find(
            (e) => e.at > removedAt && e.type === 'status' && !(e.data as { has_running: boolean }).has_running,
          ),
        "the member's status without the workspace's run",
        DEADLINE_MS,
      );
      expect(dropped.at - removedAt).toBeLessThan(END_WITHIN_MS);
      expect(target.heldCount('removal')).toBe(1);

      // Nothing more reaches the removed member from that workflow or workspace.
      const after = Math.max(...ends, dropped.at);
      await finish('removal', owner, wf.id, run.id);
      await waitFor(() => !running(ownerStatus, after) && lastStatus(ownerStatus)?.has_running === false, 'idle');
      const nextAt = Date.now();
      const next = await startRun(owner, wf.id);
      await waitFor(() => running(ownerStatus, nextAt) && target.heldCount('removal') === 1, 'the next run, held');
      const quietFrom = Date.now();
      await waitFor(() => receivedAfter(memberStatus, quietFrom, ['tick']).length >= 2, 'ticks after the next run');
      expect(memberStatus.droppedAt).toBeUndefined();
      expect(receivedAfter(memberStatus, dropped.at, ['status'])).toEqual([]);
      for (const s of [active, detail, doc])
        expect(receivedAfter(s, after, ['runs', 'run', 'node_runs', 'workflow'])).toEqual([]);
      await request(t.url).get(`/api/workflows/${wf.id}/runs/events-stream`).set(member.auth).expect(404);
      await finish('removal', owner, wf.id, next.id);
    } finally {
      closeAll(memberStatus, ownerStatus, active, detail, doc);
    }
  });

  it('a role change that keeps read access keeps the stream; leaving the workspace ends it within 1 s', async () => {
    const { owner, member, workspaceId, wf } = await team('role');
    const active = open(`${t.url}/api/workflows/${wf.id}/runs/events-stream`, member.auth);
    try {
      await opened(active, 'runs');
      await request(t.url)
        .put(`/api/workspaces/${workspaceId}/members/${member.userId}`)
        .set(owner.auth)
        .send({ role: 'viewer' })
        .expect(200);
      // A viewer still reads: the stream keeps showing the workflow's runs after the change.
      const changedAt = Date.now();
      const run = await startRun(owner, wf.id);
      await waitFor(
        () =>
          active.received.some(
            (e) => e.at > changedAt && e.type === 'runs' && (e.data as { id: string }[]).some((r) => r.id === run.id),
          ),
        'the run on the viewer stream',
      );
      await finish('role', owner, wf.id, run.id);
      await waitFor(
        () => receivedAfter(active, changedAt, ['runs']).some((e) => (e.data as unknown[]).length === 0),
        'the list empty again',
      );
      expect(active.droppedAt).toBeUndefined();
      expect(active.received.filter((e) => e.type === 'error')).toEqual([]);

      const leftAt = Date.now();
      await request(t.url).post(`/api/workspaces/${workspaceId}/leave`).set(member.auth).expect(200);
      await expectEnded(active, leftAt, 'the stream of the member who left');
    } finally {
      closeAll(active);
    }
  });
});

describe('live streams end when their credential expires (one timer at the expiry, by the app clock)', () => {
  let t: TestApp;
  // Real time to the second: the session cookie's Expires must lie ahead of the cookie jar's clock.
  const base = new Date(Math.floor(Date.now() / 1000) * 1000);
  const clock = new FakeClock(base);
  const DAY_MS = 86_400_000;
  /** The stream opens this long before its credential's expiry (by the frozen app clock). */
  const LEFT_MS = 300;
  beforeAll(async () => {
    t = await createTestApp({ SSE_KEEPALIVE_MS: '100' }, { overrides: [{ provide: Clock, useValue: clock }] });
  });
  afterAll(() => t.close());

  it('a session: the stream ends at the expiry, within 1 s, and the session is refused after it', async () => {
    clock.set(base.toISOString());
    const browser = await signupAndLogin(t.url);
    const cookie = cookieOf(browser);
    // SESSION_TTL_DAYS (7) from the login; the app clock stands still, so the timer is LEFT_MS long.
    const expiresAt = base.getTime() + 7 * DAY_MS;
    clock.set(new Date(expiresAt - LEFT_MS).toISOString());
    const openedAt = Date.now();
    const status = open(`${t.url}/api/workflows/runs/events`, cookie);
    try {
      await opened(status, 'status');
      const ended = await expectEnded(status, openedAt + LEFT_MS, 'the status stream');
      expect(ended - openedAt).toBeGreaterThanOrEqual(LEFT_MS - 50);
      clock.set(new Date(expiresAt).toISOString());
      const refused = await request(t.url).get('/api/workflows/runs/events').set(cookie).expect(401);
      expect(refused.body.message).toBe('Session expired');
    } finally {
      closeAll(status);
    }
  });

  it('an API key with expires_at: the stream ends at the expiry, within 1 s', async () => {
    clock.set(base.toISOString());
    const owner = await actor(t.url);
    const expiresAt = new Date(base.getTime() + 3_600_000);
    const created = await request(t.url)
      .post('/api/auth/api-keys')
      .set(owner.auth)
      .send({ name: 'short', expires_at: expiresAt.toISOString() })
      .expect(201);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), owner.soloWorkspaceId);
    clock.set(new Date(expiresAt.getTime() - LEFT_MS).toISOString());
    const openedAt = Date.now();
    const keyAuth = { Authorization: `Bearer ${created.body.token as string}` };
    const active = open(`${t.url}/api/workflows/${wf.id}/runs/events-stream`, keyAuth);
    try {
      await opened(active, 'runs');
      const ended = await expectEnded(active, openedAt + LEFT_MS, 'the key stream');
      expect(ended - openedAt).toBeGreaterThanOrEqual(LEFT_MS - 50);
      clock.set(expiresAt.toISOString());
      await request(t.url).get(`/api/workflows/${wf.id}/runs/events-stream`).set(keyAuth).expect(401);
    } finally {
      closeAll(active);
    }
  });
});

// Two API processes on one database is the PostgreSQL deployment; on SQLite there is one process.
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres('a stream held by another API process follows access too (the event relay)', () => {
  let here: TestApp;
  let there: TestApp;
  beforeAll(async () => {
    here = await createTestApp({ SSE_KEEPALIVE_MS: '100' });
    there = await createTestApp({ SSE_KEEPALIVE_MS: '100', DATABASE_URL: here.databaseUrl, RUNLOOM_ROLES: 'api' });
  });
  afterAll(async () => {
    await there.close({ scan: false });
    await here.close();
  });

  it('an API key revoked and a member removed in one process end the streams in the other within 1 s', async () => {
    const owner = await actor(here.url);
    const workspaceId = await upgrade(here.url, owner);
    const member = await actor(here.url);
    await addMember(here.url, owner, workspaceId, member, 'user');
    const wf = await createWorkflow(here.url, owner, graph([trigger()]), workspaceId);
    const created = await request(here.url).post('/api/auth/api-keys').set(owner.auth).send({ name: 'x' }).expect(201);
    const keyStream = open(`${there.url}/api/workflows/${wf.id}/events`, {
      Authorization: `Bearer ${created.body.token as string}`,
    });
    const memberStream = open(`${there.url}/api/workflows/${wf.id}/runs/events-stream`, member.auth);
    try {
      await Promise.all([opened(keyStream, 'workflow'), opened(memberStream, 'runs')]);
      const revokedAt = Date.now();
      await request(here.url)
        .delete(`/api/auth/api-keys/${created.body.api_key.id as string}`)
        .set(owner.auth);
      await expectEnded(keyStream, revokedAt, 'the key stream in the other process');
      const removedAt = Date.now();
      await request(here.url)
        .delete(`/api/workspaces/${workspaceId}/members/${member.userId}`)
        .set(owner.auth)
        .expect(200);
      await expectEnded(memberStream, removedAt, "the removed member's stream in the other process");
    } finally {
      closeAll(keyStream, memberStream);
    }
  });
});
