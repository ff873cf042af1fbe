import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import request from 'supertest';
import { Clock } from '../src/common/clock';
import { RunRepository } from '../src/database/repositories/run.repository';
import { FakeClock } from './utils/clock';
import { createTestApp, TestApp } from './utils/app';
import {
  Actor,
  actor,
  addMember,
  createWorkflow,
  graph,
  trigger,
  uniqueName,
  upgrade,
} from './factories/workflow.factory';

const run = promisify(execFile);

const webhookTrigger = (id: string, label: string) => trigger(id, { label, triggerType: 'Webhook' });

describe('webhooks (docs/contract.md §6)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', WEBHOOK_BODY_LIMIT: '2kb' });
  });
  afterAll(() => t.close());

  async function setup(options: { hmac?: boolean; labels?: string[]; personal?: boolean } = {}) {
    const owner = await actor(t.url);
    const ws = options.personal ? undefined : await upgrade(t.url, owner);
    const labels = options.labels ?? ['Hook'];
    const data = graph(labels.map((label, i) => webhookTrigger(`wh-${i + 1}`, label)));
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data, ...(ws ? { workspace_id: ws } : {}) })
        .expect(201)
    ).body.workflow;
    if (options.hmac) {
      await request(t.url)
        .post(`/api/workflows/${wf.id}/webhook/config`)
        .set(owner.auth)
        .send({ require_hmac: true, replay_window_sec: 300 })
        .expect(200);
    }
    const urls = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body;
    const config = (await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(owner.auth).expect(200))
      .body;
    return { owner, ws, wf, url: urls.url as string, urls, key: config.signing_key as string };
  }

  const runsOf = (workflowId: string) => t.app.get(RunRepository).listForWorkflow(workflowId, 1, 100, []);

  const sign = (key: string, ts: string, body: string) =>
    createHmac('sha256', Buffer.from(key, 'base64url')).update(`${ts}.${body}`).digest('hex');
  const now = () => Math.floor(Date.now() / 1000).toString();

  it('a sender following the README guide (curl + openssl) triggers a run', async () => {
    const { wf, url, key } = await setup({ hmac: true });
    // The exact commands of the README's sender guide.
    const script = `
      BODY='{"event":"created","order":{"id":"o-1"}}'
      TS=$(date +%s)
      KEYHEX=$(printf '%s' "$KEY" | tr '_-' '/+' | sed -e 's/$/=/' | base64 -d | od -An -tx1 | tr -d ' \\n')
      SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEYHEX | awk '{print $NF}')
      curl -s -o /dev/null -w '%{http_code}' -X POST "$URL" -H 'Content-Type: application/json' \\
        -H "X-DSentr-Timestamp: $TS" -H "X-DSentr-Signature: v1=$SIG" -d "$BODY"`;
    const { stdout } = await run('bash', ['-c', script], { env: { ...process.env, URL: `${t.url}${url}`, KEY: key } });
    expect(stdout).toBe('202');
    const runs = await runsOf(wf.id);
    expect(runs).toHaveLength(1);
    expect(runs[0].snapshot._trigger_context).toEqual({ event: 'created', order: { id: 'o-1' } });
  });

  it('a sender following the README guide (Node) triggers a run', async () => {
    const { wf, url, key } = await setup({ hmac: true });
    const snippet = `
      const crypto = require('node:crypto');
      const canonical = (v) => Array.isArray(v) ? '[' + v.map(canonical).join(',') + ']'
        : v && typeof v === 'object' ? '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}'
        : JSON.stringify(v);
      const body = canonical({ order: { items: [{ sku: 'A', qty: 2 }], id: 'o-2' }, event: 'created', note: 'Zoë "quoted"' });
      const ts = Math.floor(Date.now() / 1000).toString();
      const sig = crypto.createHmac('sha256', Buffer.from(process.env.KEY, 'base64url')).update(ts + '.' + body).digest('hex');
      fetch(process.env.URL, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-dsentr-timestamp': ts, 'x-dsentr-signature': 'v1=' + sig } })
        .then((res) => console.log(res.status));`;
    const { stdout } = await run(process.execPath, ['-e', snippet], {
      env: { ...process.env, URL: `${t.url}${url}`, KEY: key },
    });
    expect(stdout.trim()).toBe('202');
    expect(await runsOf(wf.id)).toHaveLength(1);
  });

  it('every bad signature gets its 401 and creates no run', async () => {
    const { wf, url, key } = await setup({ hmac: true });
    const body = '{"b":2,"a":1}';
    const canonical = '{"a":1,"b":2}';
    const post = (headers: Record<string, string>, path = url, payload = body) =>
      request(t.url)
        .post(path)
        .set({ 'Content-Type': 'application/json', ...headers })
        .send(payload);
    const ts = now();
    const good = sign(key, ts, canonical);

    const cases: [string, Promise<request.Response>][] = [
      [
        'Invalid token',
        post(
          { 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${good}` },
          url.replace(/\/trigger\/.+$/, '/trigger/not-the-token'),
        ),
      ],
      ['Missing HMAC signature', post({})],
      [
        'Stale or invalid timestamp',
        post({
          'X-DSentr-Timestamp': String(Number(ts) - 310),
          'X-DSentr-Signature': `v1=${sign(key, String(Number(ts) - 310), canonical)}`,
        }),
      ],
      [
        'Stale or invalid timestamp',
        post({
          'X-DSentr-Timestamp': String(Number(ts) + 310),
          'X-DSentr-Signature': `v1=${sign(key, String(Number(ts) + 310), canonical)}`,
        }),
      ],
      ['Stale or invalid timestamp', post({ 'X-DSentr-Timestamp': 'yesterday', 'X-DSentr-Signature': `v1=${good}` })],
      ['Invalid HMAC signature', post({ 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${'0'.repeat(64)}` })],
      ['Invalid HMAC signature', post({ 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${good.toUpperCase()}` })],
      // Signed over the bytes as sent rather than the canonical (sorted) form.
      ['Invalid HMAC signature', post({ 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${sign(key, ts, body)}` })],
    ];
    for (const [message, pending] of cases) {
      const res = await pending;
      expect([res.status, res.body.message]).toEqual([401, message]);
    }
    expect(await runsOf(wf.id)).toHaveLength(0);

    // The good one passes once; the same signature again is a replay.
    await post({ 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${good}` }).expect(202);
    const replay = await post({ 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${good}` }).expect(401);
    expect(replay.body.message).toBe('Replay detected');
    expect(await runsOf(wf.id)).toHaveLength(1);
  });

  it('however the path is spelled, a trigger reads its body as the signed bytes, under WEBHOOK_BODY_LIMIT', async () => {
    const { wf, url, key } = await setup({ hmac: true });
    // `%74rigger` is `trigger` percent-encoded: the router decodes it, and so must the body handling.
    const spelled = url.replace('/trigger/', '/%74rigger/');
    const ts = now();
    await request(t.url)
      .post(spelled)
      .set({
        'Content-Type': 'application/json',
        'X-DSentr-Timestamp': ts,
        'X-DSentr-Signature': `v1=${sign(key, ts, '{"n":1}')}`,
      })
      .send('{"n":1}')
      .expect(202);
    const [stored] = await runsOf(wf.id);
    expect(stored.snapshot._trigger_context).toEqual({ n: 1 });
    // Past WEBHOOK_BODY_LIMIT (2 kb here) on either spelling.
    const big = JSON.stringify({ pad: 'x'.repeat(3_000) });
    for (const path of [url, spelled]) {
      const res = await request(t.url).post(path).set('Content-Type', 'application/json').send(big).expect(413);
      expect(res.body.code).toBe('payload_too_large');
    }
  });

  it('accepts several signatures in one header (any match) and the legacy body fields', async () => {
    const { wf, url, key } = await setup({ hmac: true });
    const ts = now();
    const body = '{"z":true,"a":[1,2.5,"x"]}';
    const sig = sign(key, ts, '{"a":[1,2.5,"x"],"z":true}');
    await request(t.url)
      .post(url)
      .set({
        'Content-Type': 'application/json',
        'X-DSentr-Timestamp': ts,
        'X-DSentr-Signature': `v1=${'f'.repeat(64)} v1=${sig}`,
      })
      .send(body)
      .expect(202);

    const legacyTs = String(Number(ts) - 1);
    const legacySig = sign(key, legacyTs, '{"order":42}');
    await request(t.url)
      .post(url)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ order: 42, _dsentr_ts: legacyTs, _dsentr_sig: legacySig }))
      .expect(202);
    const runs = await runsOf(wf.id);
    expect(runs.map((r) => r.snapshot._trigger_context)).toEqual(
      expect.arrayContaining([{ order: 42 }, { z: true, a: [1, 2.5, 'x'] }]),
    );
  });

  it('selects the trigger by label; several triggers without a label → 404', async () => {
    const { wf, url, urls } = await setup({ labels: ['First', 'Second one'] });
    expect(urls.triggers).toEqual([
      { label: 'First', url: `${url}/First`, absolute_url: `http://localhost:3000${url}/First` },
      { label: 'Second one', url: `${url}/Second%20one`, absolute_url: `http://localhost:3000${url}/Second%20one` },
    ]);
    const none = await request(t.url).post(url).expect(404);
    expect(none.body.message).toBe('Workflow not found');
    const res = await request(t.url)
      .post(`${url}/second%20ONE`)
      .set('Content-Type', 'application/json')
      .send({ x: 1 })
      .expect(202);
    expect(res.body).toEqual({ success: true, run: expect.objectContaining({ status: 'queued', workflow_id: wf.id }) });
    const stored = (await runsOf(wf.id))[0];
    expect(stored.snapshot).toMatchObject({
      _start_from_node: 'wh-2',
      _start_trigger_label: 'Second one',
      _trigger_context: { x: 1 },
      _egress_allowlist: [],
    });
    await request(t.url).post(`${url}/Third`).expect(404);
    const events = await t.app.get(RunRepository).eventsFor(wf.id, stored.id);
    expect(events.map((e) => e.triggeredBy)).toEqual(['webhook']);
  });

  it('a trigger after a save runs the saved graph, not the one the last trigger read', async () => {
    const { owner, ws, wf, url } = await setup({ labels: ['Hook'] });
    await request(t.url).post(url).send({ n: 1 }).expect(202);
    // Same trigger, a new label on it and a second trigger: what the next webhook snapshots.
    const data = graph([webhookTrigger('wh-1', 'Hook'), webhookTrigger('wh-2', 'Other')]);
    await request(t.url)
      .put(`/api/workflows/${wf.id}?workspace=${ws}`)
      .set(owner.auth)
      .send({ name: wf.name, data, updated_at: wf.updated_at })
      .expect(200);
    await request(t.url).post(`${url}/Hook`).send({ n: 2 }).expect(202);
    await request(t.url).post(`${url}/Other`).send({ n: 3 }).expect(202);
    const order = (snapshot: Record<string, unknown>) => (snapshot._trigger_context as { n: number }).n;
    const runs = (await runsOf(wf.id)).sort((a, b) => order(a.snapshot) - order(b.snapshot));
    const triggerIds = (snapshot: Record<string, unknown>) => (snapshot.nodes as { id: string }[]).map((n) => n.id);
    expect(runs.map((r) => triggerIds(r.snapshot))).toEqual([['wh-1'], ['wh-1', 'wh-2'], ['wh-1', 'wh-2']]);
    expect(runs[2].snapshot._start_from_node).toBe('wh-2');
  });

  it('each URL comes with its absolute form at the API_PUBLIC_URL address (PUBLIC_URL when unset)', async () => {
    const { urls } = await setup({});
    // No address configured here: the local default.
    expect(urls.absolute_url).toBe(`http://localhost:3000${urls.url}`);
    for (const [env, base] of [
      [{ PUBLIC_URL: 'https://app.example.com/' }, 'https://app.example.com'],
      [
        { PUBLIC_URL: 'https://app.example.com', API_PUBLIC_URL: 'https://hooks.example.com/runloom/' },
        'https://hooks.example.com/runloom',
      ],
    ] as const) {
      const other = await createTestApp({ RUNLOOM_ROLES: 'api', ...env });
      try {
        const owner = await actor(other.url);
        const wf = await createWorkflow(other.url, owner, graph([webhookTrigger('wh-1', 'Order created')]));
        const body = (await request(other.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200))
          .body;
        expect(body.absolute_url).toBe(`${base}${body.url}`);
        expect(body.triggers).toEqual([
          {
            label: 'Order created',
            url: `${body.url}/Order%20created`,
            absolute_url: `${base}${body.url}/Order%20created`,
          },
        ]);
      } finally {
        await other.close();
      }
    }
  });

  it("the sender's answer is the queued run redacted, the graph's part as the payload's, every time", async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const data = { ...graph([webhookTrigger('wh-1', 'Hook')]), viewport: { x: 0, y: 0, zoom: 1 } };
    (data.nodes[0].data as Record<string, unknown>).api_token = 'plain-token-value';
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data, workspace_id: ws })
        .expect(201)
    ).body.workflow;
    const url = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body
      .url as string;
    for (const n of [1, 2]) {
      const res = await request(t.url).post(url).send({ n, password: 'sender-secret' }).expect(202);
      const { snapshot } = res.body.run;
      expect(snapshot.nodes[0].data.api_token).toBe('********');
      expect(snapshot.viewport).toEqual({ x: 0, y: 0, zoom: 1 });
      expect(snapshot._trigger_context).toEqual({ n, password: '********' });
      expect(snapshot._start_from_node).toBe('wh-1');
      expect(Object.keys(snapshot).sort()).toEqual([
        '_egress_allowlist',
        '_start_from_node',
        '_start_trigger_label',
        '_trigger_context',
        'edges',
        'nodes',
        'viewport',
      ]);
    }
  });

  it('personal workflows can be triggered (deviation 13 in docs/deviations.md); no body is fine', async () => {
    const { wf, url } = await setup({ personal: true });
    await request(t.url).post(url).expect(202);
    const runs = await runsOf(wf.id);
    expect(runs).toHaveLength(1);
    expect(runs[0].snapshot._trigger_context).toBeUndefined();
  });

  it('bodies: malformed JSON 400, too large 413, foreign content type 415; unknown workflow 404', async () => {
    const { url } = await setup();
    expect(
      (await request(t.url).post(url).set('Content-Type', 'application/json').send('{"a":').expect(400)).body.code,
    ).toBe('invalid_json');
    const big = JSON.stringify({ blob: 'x'.repeat(4096) });
    expect(
      (await request(t.url).post(url).set('Content-Type', 'application/json').send(big).expect(413)).body.code,
    ).toBe('payload_too_large');
    expect((await request(t.url).post(url).set('Content-Type', 'text/plain').send('hi').expect(415)).body.code).toBe(
      'unsupported_media_type',
    );
    await request(t.url).post('/api/workflows/6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10/trigger/abc').expect(404);
    await request(t.url).post('/api/workflows/nope/trigger/abc').expect(400);
  });

  it('config: members who may run read it (not viewers), the creator or an admin writes; HMAC needs a workspace plan; window clamped', async () => {
    const { owner, ws, wf } = await setup();
    const viewer: Actor = await actor(t.url);
    const member: Actor = await actor(t.url);
    await addMember(t.url, owner, ws!, viewer, 'viewer');
    await addMember(t.url, owner, ws!, member, 'user');
    const hidden = await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(viewer.auth).expect(403);
    expect(hidden.body.message).toBe('Workspace viewers cannot run workflows.');
    const read = await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(member.auth).expect(200);
    expect(read.body).toEqual({
      success: true,
      require_hmac: false,
      replay_window_sec: 300,
      signing_key: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const denied = await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/config`)
      .set(member.auth)
      .send({ require_hmac: true, replay_window_sec: 10 })
      .expect(403);
    expect(denied.body.message).toBe('Only a workspace admin or owner can change workflow settings.');
    await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/config`)
      .set(owner.auth)
      .send({ require_hmac: true, replay_window_sec: 10 })
      .expect(200);
    expect(
      (await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(owner.auth)).body.replay_window_sec,
    ).toBe(60);
    await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/config`)
      .set(owner.auth)
      .send({ require_hmac: true, replay_window_sec: 99999 })
      .expect(200);
    expect(
      (await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(owner.auth)).body.replay_window_sec,
    ).toBe(3600);
    // Omitted, the window stays what it was (documented as optional).
    await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/config`)
      .set(owner.auth)
      .send({ require_hmac: true })
      .expect(200);
    expect(
      (await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(owner.auth)).body.replay_window_sec,
    ).toBe(3600);
    const bad = await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/config`)
      .set(owner.auth)
      .send({ require_hmac: true, replay_window_sec: 'soon' })
      .expect(400);
    expect(bad.body.message).toBe('Invalid request: replay_window_sec must be an integer');

    const solo = await setup({ personal: true });
    const soloRes = await request(t.url)
      .post(`/api/workflows/${solo.wf.id}/webhook/config`)
      .set(solo.owner.auth)
      .send({ require_hmac: true, replay_window_sec: 300 })
      .expect(403);
    // The real cause: the workflow is personal (upgrading the plan would not help).
    expect(soloRes.body.message).toBe(
      'HMAC verification is for workspace workflows: this workflow is personal. Move it into a workspace on the Workspace plan to enable it.',
    );
  });

  it('regenerate rotates token and key together; signing-key regenerate needs a workspace plan', async () => {
    const { owner, wf, url, key } = await setup({ hmac: true });
    const rotated = await request(t.url).post(`/api/workflows/${wf.id}/webhook/regenerate`).set(owner.auth).expect(200);
    expect(rotated.body).toEqual({
      success: true,
      url: expect.any(String),
      absolute_url: `http://localhost:3000${rotated.body.url}`,
      triggers: [
        {
          label: 'Hook',
          url: `${rotated.body.url}/Hook`,
          absolute_url: `http://localhost:3000${rotated.body.url}/Hook`,
        },
      ],
      signing_key: expect.any(String),
    });
    expect(rotated.body.url).not.toBe(url);
    expect(rotated.body.signing_key).not.toBe(key);
    expect((await request(t.url).post(url).expect(401)).body.message).toBe('Invalid token');
    const again = await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/signing-key/regenerate`)
      .set(owner.auth)
      .expect(200);
    expect(again.body.signing_key).not.toBe(rotated.body.signing_key);

    const personal = await setup({ personal: true });
    const notWs = await request(t.url)
      .post(`/api/workflows/${personal.wf.id}/webhook/signing-key/regenerate`)
      .set(personal.owner.auth)
      .expect(404);
    expect(notWs.body.message).toBe('Workflow not in a workspace');
    const soloWsOwner = await actor(t.url);
    const soloWf = (
      await request(t.url)
        .post('/api/workflows')
        .set(soloWsOwner.auth)
        .send({
          name: uniqueName(),
          data: graph([webhookTrigger('w', 'Hook')]),
          workspace_id: soloWsOwner.soloWorkspaceId,
        })
        .expect(201)
    ).body.workflow;
    const planned = await request(t.url)
      .post(`/api/workflows/${soloWf.id}/webhook/signing-key/regenerate`)
      .set(soloWsOwner.auth)
      .expect(403);
    expect(planned.body.message).toBe('Webhook signing requires the Workspace plan.');
  });
});

describe('webhook quota edge', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', WORKSPACE_MONTHLY_RUN_LIMIT: '2' });
  });
  afterAll(() => t.close());

  it('answers 429 workspace_run_limit when the workspace quota is used up', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data: graph([webhookTrigger('w', 'Hook')]), workspace_id: ws })
        .expect(201)
    ).body.workflow;
    const { url } = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body;
    const results = await Promise.all(Array.from({ length: 5 }, () => request(t.url).post(url)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(3);
    expect(refused[0].body.code).toBe('workspace_run_limit');
  });

  it("a personal workflow of a workspace-plan owner takes webhook tickets from the owner's allowance", async () => {
    const owner = await actor(t.url);
    await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([webhookTrigger('w', 'Hook')]));
    expect(wf.workspace_id).toBeNull();
    const { url } = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body;
    const results = await Promise.all(Array.from({ length: 5 }, () => request(t.url).post(url)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.map((r) => r.body.code)).toEqual(Array(3).fill('workspace_run_limit'));
  });
});

describe('Solo monthly cap on webhook runs (docs/contract.md §8)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', SOLO_MONTHLY_RUN_LIMIT: '2' });
  });
  afterAll(() => t.close());

  async function soloHook(a: Actor, workspaceId?: string) {
    const wf = await createWorkflow(t.url, a, graph([webhookTrigger('w', 'Hook')]), workspaceId);
    const { url } = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(a.auth).expect(200)).body;
    return { wf, url: url as string };
  }

  it('webhook runs count against the same cap as manual runs, and past it answer as a manual run does', async () => {
    const a = await actor(t.url);
    const { wf, url } = await soloHook(a, a.soloWorkspaceId);
    await request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).send({}).expect(202);
    await request(t.url).post(url).expect(202);
    const hook = await request(t.url).post(url).expect(403);
    const manual = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).send({}).expect(403);
    expect(hook.body).toEqual(manual.body);
    expect(hook.body).toEqual({
      success: false,
      status: 'error',
      message: expect.stringMatching(/2 times per month/),
      violations: [{ code: 'run-limit', message: hook.body.message }],
    });
    expect(await t.app.get(RunRepository).listForWorkflow(wf.id, 1, 10, [])).toHaveLength(2);
  });

  it('a burst of concurrent webhook posts accepts exactly what is left of the cap (personal workflow)', async () => {
    const a = await actor(t.url);
    const { wf, url } = await soloHook(a);
    expect(wf.workspace_id).toBeNull();
    const results = await Promise.all(Array.from({ length: 12 }, () => request(t.url).post(url)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 403);
    expect(refused.map((r) => r.body.violations[0].code)).toEqual(Array(10).fill('run-limit'));
    expect(await t.app.get(RunRepository).listForWorkflow(wf.id, 1, 20, [])).toHaveLength(2);
  });

  it('the cap is per owner: every solo workspace and personal workflow of theirs shares it', async () => {
    const a = await actor(t.url);
    const extra = (await request(t.url).post('/api/workspaces').set(a.auth).send({ name: 'Extra' }).expect(201)).body
      .workspace;
    expect(extra.plan).toBe('solo');
    const hooks = await Promise.all([soloHook(a, a.soloWorkspaceId), soloHook(a, extra.id), soloHook(a)]);
    await request(t.url).post(hooks[0].url).expect(202);
    await request(t.url).post(hooks[1].url).expect(202);
    for (const { url } of hooks) await request(t.url).post(url).expect(403);
  });
});

describe('replays of a signature timestamped ahead of the server', () => {
  let t: TestApp;
  const clock = new FakeClock(new Date());
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' }, { overrides: [{ provide: Clock, useValue: clock }] });
  });
  afterAll(() => t.close());

  it('are refused for as long as the timestamp stays fresh, even after the first use left the window', async () => {
    const owner = await actor(t.url);
    const wf = await createWorkflow(t.url, owner, graph([webhookTrigger('wh-1', 'Hook')]), await upgrade(t.url, owner));
    await request(t.url)
      .post(`/api/workflows/${wf.id}/webhook/config`)
      .set(owner.auth)
      .send({ require_hmac: true, replay_window_sec: 300 })
      .expect(200);
    const key = (await request(t.url).get(`/api/workflows/${wf.id}/webhook/config`).set(owner.auth).expect(200)).body
      .signing_key as string;
    const url = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body
      .url as string;
    const start = clock.now().getTime();
    // Timestamped 250 s ahead: fresh now, and still fresh 400 s later (150 s in the past).
    const ts = String(Math.floor(start / 1000) + 250);
    const body = '{"n":1}';
    const signature = createHmac('sha256', Buffer.from(key, 'base64url')).update(`${ts}.${body}`).digest('hex');
    const send = () =>
      request(t.url)
        .post(url)
        .set({ 'content-type': 'application/json', 'X-DSentr-Timestamp': ts, 'X-DSentr-Signature': `v1=${signature}` })
        .send(body);
    await send().expect(202);
    clock.set(new Date(start + 400_000).toISOString());
    const replay = await send().expect(401);
    expect(replay.body.message).toBe('Replay detected');
    expect(await t.app.get(RunRepository).listForWorkflow(wf.id, 1, 10, [])).toHaveLength(1);
  });
});
