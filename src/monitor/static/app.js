// The live run page: plain browser JavaScript, no build step. It uses the same API and SSE streams
// as the web client, with the session cookie (EventSource sends cookies, not headers). Everything
// that comes from the server is put on the page as text (textContent, text nodes, attributes),
// never as HTML: labels, names, errors and outputs are user data.
'use strict';

const $ = (selector) => document.querySelector(selector);
const ACTIVE = new Set(['queued', 'running']);
/** Past this, an input or output is cut on the page (the download has all of it). */
const MAX_SHOWN_CHARS = 20000;

let csrf = '';
const streams = { runs: null, run: null };
/** The user's role and the workspace's name, per workspace id (from the session). */
let memberships = new Map();
const workflows = new Map();
let workflowId = '';
let selectedRun = '';
let newestRun = '';
/** The selected run as last streamed, its node labels, and its node runs. */
let current = null;
let labels = new Map();
let lastNodeRuns = [];
/** `<node id>\n<inputs|outputs>` sections the user opened, kept open across live updates. */
const openParts = new Set();
let listRequests = 0;
/** The list request count when a run was last picked: older answers must not move the selection. */
let pickedAt = 0;
let busy = false;

// --- helpers -----------------------------------------------------------------------------------

const text = (value) => document.createTextNode(value == null ? '' : String(value));

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function statusBadge(status) {
  return el('span', `status status-${status}`, status);
}

function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '';
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(value < 10000 ? 2 : 1)} s`;
  const s = Math.round(value / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** From `from` to `to`; without `to`, the time so far when `live` (ticked each second), else nothing. */
function setDuration(node, from, to, live) {
  const start = Date.parse(from || '');
  const end = Date.parse(to || '');
  const ticking = Number.isFinite(start) && !Number.isFinite(end) && live;
  node.dataset.from = Number.isFinite(start) ? String(start) : '';
  node.classList.toggle('running', ticking);
  if (!Number.isFinite(start)) node.textContent = '';
  else if (Number.isFinite(end)) node.textContent = formatDuration(end - start);
  else node.textContent = ticking ? formatDuration(Date.now() - start) : '';
}

setInterval(() => {
  for (const node of document.querySelectorAll('.duration.running')) {
    node.textContent = formatDuration(Date.now() - Number(node.dataset.from));
  }
}, 1000);

const KNOWN_ERRORS = {
  runaway_protection_triggered:
    'Runaway protection: this workflow started too many runs in a short time. Wait a moment and try again.',
  access_revoked: 'Your session ended or your access to this workflow changed.',
  workflow_not_found: 'This workflow was deleted.',
};
const MESSAGE_KEYS = ['message', 'error', 'reason', 'detail', 'description'];

/**
 * An error as a sentence: a JSON error (an object a code node threw, an API answer) becomes its
 * message, with its other plain fields in brackets, instead of raw JSON.
 */
function readable(value, depth = 0) {
  if (value == null) return '';
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (depth < 4 && (trimmed.startsWith('{') || trimmed.startsWith('['))) {
      try {
        return readable(JSON.parse(trimmed), depth + 1);
      } catch {
        // Not JSON after all: the text as it is.
      }
    }
    return trimmed;
  }
  if (typeof value !== 'object') return String(value);
  if (depth >= 4) return JSON.stringify(value);
  if (Array.isArray(value))
    return value
      .map((item) => readable(item, depth + 1))
      .filter(Boolean)
      .join('; ');
  if (typeof value.error === 'string' && KNOWN_ERRORS[value.error]) return KNOWN_ERRORS[value.error];
  const key = MESSAGE_KEYS.find((k) => value[k] != null && value[k] !== '');
  const main = key ? readable(value[key], depth + 1) : '';
  const rest = Object.entries(value)
    .filter(([k, v]) => k !== key && ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}: ${v}`);
  if (main) return rest.length ? `${main} (${rest.join(', ')})` : main;
  return rest.length ? rest.join(', ') : JSON.stringify(value);
}

/** What an API error answer says: its message (and each plan violation), never the raw body. */
function apiMessage(res, body) {
  if (body && typeof body === 'object') {
    if (typeof body.error === 'string' && KNOWN_ERRORS[body.error]) return KNOWN_ERRORS[body.error];
    const violations = Array.isArray(body.violations)
      ? body.violations.map((v) => v && v.message).filter((m) => typeof m === 'string')
      : [];
    const message = typeof body.message === 'string' && body.message ? body.message : '';
    if (violations.length > 1) return `${message} ${violations.join(' ')}`.trim();
    if (message) return message;
    const said = readable(body);
    if (said) return said;
  }
  if (typeof body === 'string' && body.trim() && body.length < 300 && !body.trim().startsWith('<')) return body.trim();
  return `${res.status} ${res.statusText}`.trim();
}

async function fetchCsrf() {
  csrf = await (await fetch('/api/auth/csrf-token', { credentials: 'same-origin' })).text();
}

async function api(path, options = {}, retried = false) {
  const headers = { ...(options.body ? { 'content-type': 'application/json' } : {}), 'x-csrf-token': csrf };
  const res = await fetch(path, { credentials: 'same-origin', ...options, headers });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (res.ok) return body;
  // The CSRF cookie can expire while the page stays open: take a new token, once.
  if (res.status === 403 && body && body.code === 'csrf_failed' && !retried) {
    await fetchCsrf();
    return api(path, options, true);
  }
  throw Object.assign(new Error(apiMessage(res, body)), { status: res.status });
}

function notice(message) {
  $('#notice').textContent = message;
  $('#notice').hidden = !message;
}

function close(name) {
  streams[name]?.close();
  streams[name] = null;
}

function runPath(runId) {
  return `/api/workflows/${encodeURIComponent(workflowId)}/runs/${encodeURIComponent(runId)}`;
}

// --- session -----------------------------------------------------------------------------------

async function start() {
  await fetchCsrf();
  let session;
  try {
    session = await api('/api/auth/me');
  } catch (error) {
    showLogin(error.status === 401 ? '' : error.message);
    return;
  }
  await showApp(session);
}

function setSession(session) {
  memberships = new Map((session.memberships || []).map((m) => [m.workspace.id, m]));
}

function showLogin(message = '') {
  close('runs');
  close('run');
  workflowId = '';
  selectedRun = '';
  current = null;
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#workflow').replaceChildren(new Option('Pick a workflow…', ''));
  $('#runs tbody').replaceChildren();
  $('#detail').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
}

async function showApp(session) {
  setSession(session);
  $('#login').hidden = true;
  $('#login-error').textContent = '';
  $('#password').value = '';
  $('#who').textContent = session.user.email;
  $('#logout').hidden = false;
  $('#app').hidden = false;
  try {
    await loadWorkflows();
  } catch (error) {
    notice(error.message);
  }
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('#login-error').textContent = '';
  let session;
  try {
    session = await api('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ email: $('#email').value, password: $('#password').value }),
    });
  } catch (error) {
    $('#login-error').textContent = error.message;
    return;
  }
  await showApp(session);
});

$('#logout').addEventListener('click', async () => {
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } catch (error) {
    notice(error.message);
    return;
  }
  notice('');
  showLogin();
});

/** After a stream lost access: signed out (sign in again), or only this workflow is gone. */
async function recheckSession() {
  close('runs');
  close('run');
  try {
    setSession(await api('/api/auth/me'));
  } catch (error) {
    showLogin(error.status === 401 ? 'Your session ended. Sign in again.' : error.message);
    return;
  }
  notice('You can no longer see that workflow.');
  $('#workflow').value = '';
  await watchWorkflow('');
  await loadWorkflows();
}

function streamError(source, event) {
  if (source !== streams.runs && source !== streams.run) return;
  if (event.data) {
    notice(readable(event.data));
    void recheckSession();
  } else if (source.readyState === EventSource.CLOSED) {
    // Refused outright (not a dropped connection, which the browser retries by itself).
    void recheckSession();
  }
}

// --- workflows and runs ------------------------------------------------------------------------

/** The user's own workflows and those of every workspace they belong to, grouped by workspace. */
async function loadWorkflows() {
  const lists = await Promise.all([
    api('/api/workflows'),
    // One workspace that cannot be listed (its plan changed, say) must not hide the others.
    ...[...memberships.keys()].map((id) =>
      api(`/api/workflows?workspace=${encodeURIComponent(id)}`).catch(() => ({ workflows: [] })),
    ),
  ]);
  workflows.clear();
  for (const list of lists) for (const wf of list.workflows || []) workflows.set(wf.id, wf);
  const groups = new Map();
  for (const wf of [...workflows.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const group = wf.workspace_id ? memberships.get(wf.workspace_id)?.workspace.name || 'Workspace' : 'Personal';
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(wf);
  }
  const options = [new Option('Pick a workflow…', '')];
  for (const [name, list] of groups) {
    const group = document.createElement('optgroup');
    group.label = name;
    group.append(...list.map((wf) => new Option(wf.name, wf.id)));
    options.push(group);
  }
  $('#workflow').replaceChildren(...options);
  $('#workflow').value = workflows.has(workflowId) ? workflowId : '';
  if (workflowId && !workflows.has(workflowId)) await watchWorkflow('');
}

/** Viewers only watch; everyone else who sees a workflow may run, rerun and cancel it. */
function mayRun() {
  const wf = workflows.get(workflowId);
  return !wf || !wf.workspace_id || memberships.get(wf.workspace_id)?.role !== 'viewer';
}

$('#workflow').addEventListener('change', () => {
  notice('');
  void watchWorkflow($('#workflow').value);
});

$('#follow').addEventListener('change', () => {
  if ($('#follow').checked && newestRun && newestRun !== selectedRun) watchRun(newestRun);
});

async function watchWorkflow(id) {
  close('runs');
  close('run');
  workflowId = id;
  selectedRun = '';
  newestRun = '';
  current = null;
  $('#runs tbody').replaceChildren();
  $('#detail').hidden = true;
  $('#live').classList.remove('on');
  if (!id) return;
  try {
    await refreshRuns();
  } catch (error) {
    notice(error.message);
    return;
  }
  if (id !== workflowId) return;
  // The active-runs stream changes whenever a run is queued, starts or ends: refresh the list then.
  const source = new EventSource(`/api/workflows/${encodeURIComponent(id)}/runs/events-stream`);
  source.addEventListener('open', () => $('#live').classList.add('on'));
  source.addEventListener('error', (event) => {
    $('#live').classList.remove('on');
    streamError(source, event);
  });
  source.addEventListener('runs', () => refreshRuns().catch((error) => notice(error.message)));
  streams.runs = source;
}

async function refreshRuns() {
  const id = workflowId;
  const request = ++listRequests;
  const { runs } = await api(`/api/workflows/${encodeURIComponent(id)}/runs?per_page=20`);
  // A slower, older answer must not overwrite a newer one.
  if (id !== workflowId || request !== listRequests) return;
  $('#runs tbody').replaceChildren(...runs.map(runRow));
  newestRun = runs[0] ? runs[0].id : '';
  // Follow the newest run (when following, or when nothing is picked yet), unless this list was
  // asked for before the current run was picked (a rerun that the list does not show yet).
  const follow = $('#follow').checked || !selectedRun;
  if (newestRun && newestRun !== selectedRun && follow && request > pickedAt) watchRun(newestRun);
}

function runRow(run) {
  const tr = document.createElement('tr');
  tr.dataset.runId = run.id;
  tr.dataset.status = run.status;
  if (run.id === selectedRun) tr.classList.add('selected');
  const duration = el('span', 'duration');
  setDuration(duration, run.started_at, run.finished_at, ACTIVE.has(run.status));
  const id = el('span', 'run-id', run.id.slice(0, 8));
  id.title = run.id;
  for (const cell of [id, statusBadge(run.status), text(new Date(run.created_at).toLocaleTimeString()), duration]) {
    const td = document.createElement('td');
    td.append(cell);
    tr.append(td);
  }
  tr.addEventListener('click', () => {
    // Picking an older run stops following; picking the newest keeps it.
    $('#follow').checked = run.id === newestRun;
    watchRun(run.id);
  });
  return tr;
}

function rowOf(runId) {
  return [...document.querySelectorAll('#runs tbody tr')].find((tr) => tr.dataset.runId === runId);
}

// --- one run -----------------------------------------------------------------------------------

function watchRun(runId) {
  close('run');
  selectedRun = runId;
  pickedAt = listRequests;
  current = null;
  labels = new Map();
  lastNodeRuns = [];
  openParts.clear();
  for (const tr of document.querySelectorAll('#runs tbody tr'))
    tr.classList.toggle('selected', tr.dataset.runId === runId);
  $('#detail').hidden = false;
  $('#run-id').textContent = runId.slice(0, 8);
  $('#run-id').title = runId;
  $('#run-status').replaceChildren();
  setDuration($('#run-duration'), null, null, false);
  $('#run-error').hidden = true;
  $('#run-message').textContent = '';
  $('#download').href = `${runPath(runId)}/download`;
  renderNodes([]);
  updateActions();
  const source = new EventSource(`${runPath(runId)}/events`);
  source.addEventListener('run', (event) => {
    if (source === streams.run) showRun(JSON.parse(event.data));
  });
  source.addEventListener('node_runs', (event) => {
    if (source === streams.run) renderNodes(JSON.parse(event.data));
  });
  source.addEventListener('error', (event) => streamError(source, event));
  streams.run = source;
}

function showRun(run) {
  current = run;
  labels = snapshotLabels(run.snapshot);
  $('#run-status').replaceChildren(statusBadge(run.status));
  setDuration($('#run-duration'), run.started_at, run.finished_at, ACTIVE.has(run.status));
  const error = readable(run.error);
  $('#run-error').textContent = error;
  $('#run-error').hidden = !error;
  const row = rowOf(run.id);
  if (row) {
    row.dataset.status = run.status;
    row.children[1].replaceChildren(statusBadge(run.status));
    setDuration(row.children[3].firstChild, run.started_at, run.finished_at, ACTIVE.has(run.status));
  }
  // Labels and the end of the run change how the node runs read.
  renderNodes(lastNodeRuns);
  updateActions();
}

/** Node id → label, from the graph the run executes. */
function snapshotLabels(snapshot) {
  const map = new Map();
  const nodes = snapshot && Array.isArray(snapshot.nodes) ? snapshot.nodes : [];
  for (const node of nodes) {
    const label = node && node.data && node.data.label;
    if (node && typeof node.id === 'string' && typeof label === 'string' && label.trim())
      map.set(node.id, label.trim());
  }
  return map;
}

function nodeLabel(n) {
  return labels.get(n.node_id) || n.name || n.node_id;
}

function renderNodes(nodeRuns) {
  lastNodeRuns = nodeRuns;
  const live = !current || ACTIVE.has(current.status);
  $('#nodes').replaceChildren(...nodeRuns.map((n) => nodeItem(n, live)));
  renderTimeline(nodeRuns, live);
}

function nodeItem(n, live) {
  const li = document.createElement('li');
  li.dataset.nodeId = n.node_id;
  li.dataset.status = n.status;
  const label = el('span', 'label', nodeLabel(n));
  label.title = `${n.node_id} (${n.node_type})`;
  const duration = el('span', 'duration');
  setDuration(duration, n.started_at, n.finished_at, live && n.status === 'running');
  const head = el('div', 'node-head');
  head.append(statusBadge(n.status), label, duration);
  li.append(head);
  const error = readable(n.error);
  if (error) li.append(el('p', 'error', error));
  li.append(ioPart(n, 'inputs', 'Inputs'), ioPart(n, 'outputs', 'Outputs'));
  return li;
}

/** A node run's inputs or outputs (redacted by the API) as text, folded unless the user opened it. */
function ioPart(n, part, title) {
  const details = el('details', `io io-${part}`);
  const key = `${n.node_id}\n${part}`;
  details.open = openParts.has(key);
  details.addEventListener('toggle', () => (details.open ? openParts.add(key) : openParts.delete(key)));
  details.append(el('summary', '', title), el('pre', '', shown(n[part], n.status)));
  return details;
}

function shown(value, status) {
  if (value == null) return status === 'running' ? '(not yet)' : '(none)';
  const full = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  if (full.length <= MAX_SHOWN_CHARS) return full;
  const more = full.length - MAX_SHOWN_CHARS;
  return `${full.slice(0, MAX_SHOWN_CHARS)}\n… ${more} more characters: download the run for all of it`;
}

/** One bar per node run, from its start to its end (or now), on a shared time axis. */
function renderTimeline(nodeRuns, live) {
  const svg = $('#timeline');
  const times = nodeRuns.map((n) => {
    const from = Date.parse(n.started_at || n.created_at);
    const end = Date.parse(n.finished_at || '');
    return { id: n.node_id, label: nodeLabel(n), status: n.status, from, to: end || (live ? Date.now() : from) };
  });
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
      label.append(text(t.label.length > 17 ? `${t.label.slice(0, 16)}…` : t.label));
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.append(text(`${t.label}: ${formatDuration(t.to - t.from)}`));
      label.append(title);
      return [label, rect];
    }),
  );
}

// --- rerun and cancel --------------------------------------------------------------------------

function updateActions() {
  const allowed = mayRun();
  $('#rerun').hidden = !allowed;
  $('#cancel').hidden = !allowed;
  $('#read-only').hidden = allowed;
  $('#rerun').disabled = busy || !current;
  $('#cancel').disabled = busy || !current || !ACTIVE.has(current.status);
}

async function act(work) {
  busy = true;
  $('#run-message').textContent = '';
  updateActions();
  try {
    await work();
  } catch (error) {
    $('#run-message').textContent = error.message;
    if (error.status === 401) showLogin('Your session ended. Sign in again.');
    // Refused: the role may have changed since sign-in, so ask again what this user may do.
    if (error.status === 403) {
      try {
        setSession(await api('/api/auth/me'));
      } catch {
        // The message above already says what went wrong.
      }
    }
  } finally {
    busy = false;
    updateActions();
  }
}

$('#rerun').addEventListener('click', () =>
  act(async () => {
    const { run } = await api(`${runPath(selectedRun)}/rerun`, { method: 'POST', body: '{}' });
    // The new run is the newest: watch it and keep following from there.
    $('#follow').checked = true;
    watchRun(run.id);
  }),
);

$('#cancel').addEventListener('click', () => act(() => api(`${runPath(selectedRun)}/cancel`, { method: 'POST' })));

void start();
