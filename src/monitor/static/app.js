// The live run page: plain browser JavaScript, no build step. It uses the same API and SSE streams
// as the web client, with the session cookie (EventSource sends cookies, not headers).
'use strict';

const $ = (selector) => document.querySelector(selector);
let csrf = '';
const streams = { runs: null, run: null };
let workflowId = '';
let selectedRun = '';

async function api(path, options = {}) {
  const headers = { ...(options.body ? { 'content-type': 'application/json' } : {}), 'x-csrf-token': csrf };
  const res = await fetch(path, { credentials: 'same-origin', ...options, headers });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw Object.assign(new Error(body.message || res.statusText), { status: res.status });
  return body;
}

const text = (value) => document.createTextNode(value == null ? '' : String(value));

function statusBadge(status) {
  const span = document.createElement('span');
  span.className = `status status-${status}`;
  span.append(text(status));
  return span;
}

async function start() {
  csrf = await (await fetch('/api/auth/csrf-token', { credentials: 'same-origin' })).text();
  try {
    const me = await api('/api/auth/me');
    showApp(me.user);
  } catch {
    $('#login').hidden = false;
  }
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('#login-error').textContent = '';
  try {
    const res = await api('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ email: $('#email').value, password: $('#password').value }),
    });
    $('#login').hidden = true;
    showApp(res.user);
  } catch (error) {
    $('#login-error').textContent = error.message;
  }
});

async function showApp(user) {
  $('#who').textContent = user.email;
  $('#app').hidden = false;
  const { workflows } = await api('/api/workflows');
  for (const wf of workflows) {
    const option = document.createElement('option');
    option.value = wf.id;
    option.append(text(wf.name));
    $('#workflow').append(option);
  }
}

$('#workflow').addEventListener('change', () => watchWorkflow($('#workflow').value));

function close(name) {
  streams[name]?.close();
  streams[name] = null;
}

async function watchWorkflow(id) {
  close('runs');
  close('run');
  workflowId = id;
  selectedRun = '';
  $('#runs tbody').replaceChildren();
  if (!id) return;
  await refreshRuns();
  // The active-runs stream changes whenever a run is queued, starts or ends: refresh the list then.
  const source = new EventSource(`/api/workflows/${id}/runs/events-stream`);
  source.addEventListener('open', () => $('#live').classList.add('on'));
  source.addEventListener('error', () => $('#live').classList.remove('on'));
  source.addEventListener('runs', () => void refreshRuns());
  streams.runs = source;
}

async function refreshRuns() {
  const id = workflowId;
  const { runs } = await api(`/api/workflows/${id}/runs?per_page=20`);
  if (id !== workflowId) return;
  const rows = runs.map((run) => {
    const tr = document.createElement('tr');
    tr.dataset.runId = run.id;
    tr.dataset.status = run.status;
    if (run.id === selectedRun) tr.classList.add('selected');
    const cells = [
      text(run.id.slice(0, 8)),
      statusBadge(run.status),
      text(new Date(run.created_at).toLocaleTimeString()),
    ];
    for (const cell of cells) {
      const td = document.createElement('td');
      td.append(cell);
      tr.append(td);
    }
    tr.addEventListener('click', () => watchRun(run.id));
    return tr;
  });
  $('#runs tbody').replaceChildren(...rows);
  // Follow the newest run unless one was picked.
  if (!selectedRun && runs[0]) watchRun(runs[0].id);
}

function watchRun(runId) {
  close('run');
  selectedRun = runId;
  for (const tr of document.querySelectorAll('tr[data-run-id]'))
    tr.classList.toggle('selected', tr.dataset.runId === runId);
  $('#run-id').textContent = runId.slice(0, 8);
  const source = new EventSource(`/api/workflows/${workflowId}/runs/${runId}/events`);
  source.addEventListener('run', (event) => {
    const run = JSON.parse(event.data);
    $('#run-status').replaceChildren(statusBadge(run.status));
    const row = document.querySelector(`tr[data-run-id="${run.id}"]`);
    if (row) {
      row.dataset.status = run.status;
      row.children[1].replaceChildren(statusBadge(run.status));
    }
  });
  source.addEventListener('node_runs', (event) => renderNodes(JSON.parse(event.data)));
  streams.run = source;
}

function renderNodes(nodeRuns) {
  $('#nodes').replaceChildren(
    ...nodeRuns.map((n) => {
      const li = document.createElement('li');
      li.dataset.nodeId = n.node_id;
      li.dataset.status = n.status;
      li.append(statusBadge(n.status), text(` ${n.node_id}`), text(n.error ? ` — ${n.error}` : ''));
      return li;
    }),
  );
  // Timeline: one bar per node run, from its start to its end (or now), on a shared time axis.
  const svg = $('#timeline');
  const times = nodeRuns.map((n) => ({
    id: n.node_id,
    status: n.status,
    from: Date.parse(n.started_at || n.created_at),
    to: Date.parse(n.finished_at || '') || Date.now(),
  }));
  const start = Math.min(...times.map((t) => t.from));
  const span = Math.max(1, Math.max(...times.map((t) => t.to)) - start);
  const width = 480;
  const rowHeight = 22;
  svg.setAttribute('height', String(times.length * rowHeight));
  svg.replaceChildren(
    ...times.flatMap((t, i) => {
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      rect.setAttribute('x', String(120 + ((t.from - start) / span) * (width - 130)));
      rect.setAttribute('y', String(i * rowHeight + 4));
      rect.setAttribute('width', String(Math.max(3, ((t.to - t.from) / span) * (width - 130))));
      rect.setAttribute('height', String(rowHeight - 8));
      rect.setAttribute('class', `bar status-${t.status}`);
      rect.dataset.nodeId = t.id;
      const label = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      label.setAttribute('x', '0');
      label.setAttribute('y', String(i * rowHeight + 16));
      label.append(text(t.id));
      return [label, rect];
    }),
  );
}

void start();
