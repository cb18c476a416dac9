// jnsq admin UI: a small single-page app over nsqadmin's JSON API (/api/...), served by every node.
// Pages are rendered from the API on each refresh; rates come from message counts between refreshes.
'use strict';

const HISTORY = 60;                 // points kept per rate series
const MAX_SERIES = 400;             // series kept for the session; the least recently updated go first
// Under --admin-base-path every link, asset and API call goes below it; the server fills both in.
const meta = name => document.querySelector(`meta[name="${name}"]`)?.content ?? '';
const BASE = meta('jnsq-base-path').startsWith('{{') ? '' : meta('jnsq-base-path');
const IS_ADMIN = meta('jnsq-is-admin') !== 'false';
// key -> {last: {count, at}, rates: []}: kept in sessionStorage, so a reload or a new page of this
// tab goes on with the history instead of starting empty (no graphite needed).
const series = loadSeries();
let timer = null;
let generation = 0;                 // bumped on navigation so late answers of an old page are dropped

// ------------------------------------------------------------------ helpers

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
// Numbers only: a value that is not one (whatever a node sent) shows as 0 rather than reaching the page as markup.
const fmt = n => (Number(n) || 0).toLocaleString('en-US');
const int = n => String(Math.trunc(Number(n) || 0));
function fmtRate(r) { return r == null ? '–' : (r >= 100 ? Math.round(r).toLocaleString('en-US') : r.toFixed(1)) + '/s'; }
function duration(seconds) {
  seconds = Number(seconds);
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = Math.floor(seconds % 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}
function nanos(ns) {
  ns = Number(ns);
  if (!Number.isFinite(ns)) return '–';
  if (ns < 1e3) return ns + 'ns';
  if (ns < 1e6) return (ns / 1e3).toFixed(1) + 'µs';
  if (ns < 1e9) return (ns / 1e6).toFixed(1) + 'ms';
  return (ns / 1e9).toFixed(2) + 's';
}
const enc = encodeURIComponent;

function loadSeries() {
  try {
    const saved = JSON.parse(sessionStorage.getItem('jnsq-rates') || '{}');
    const m = new Map();
    for (const [k, v] of Object.entries(saved)) {
      if (Array.isArray(v.rates)) m.set(k, { last: null, rates: v.rates.filter(Number.isFinite).slice(-HISTORY), lastCount: v.lastCount, lastWall: v.lastWall });
    }
    return m;
  } catch (e) {
    return new Map();
  }
}

function saveSeries() {
  while (series.size > MAX_SERIES) series.delete(series.keys().next().value);
  const out = {};
  for (const [k, s] of series) out[k] = { rates: s.rates, lastCount: s.last ? s.last.count : s.lastCount, lastWall: s.last ? s.last.wall : s.lastWall };
  try { sessionStorage.setItem('jnsq-rates', JSON.stringify(out)); } catch (e) { /* storage full: keep it in memory only */ }
}

/** Records a counter reading for key and returns the rate since the last one (null on the first). */
function rate(key, count) {
  const now = performance.now();
  const wall = Date.now();
  let s = series.get(key);
  if (!s) { s = { last: null, rates: [] }; } else series.delete(key);
  series.set(key, s);   // most recently updated last
  // After a reload the last reading comes from storage, with wall-clock time.
  const last = s.last || (s.lastCount != null && s.lastWall ? { count: s.lastCount, at: now - (wall - s.lastWall), wall: s.lastWall } : null);
  let r = null;
  if (last && now > last.at && count >= last.count) {
    r = (count - last.count) * 1000 / (now - last.at);
    s.rates.push(r);
    if (s.rates.length > HISTORY) s.rates.shift();
  }
  s.last = { count, at: now, wall };
  return r;
}

function points(values, w, h, pad = 2) {
  // Fewer than two readings, or none above zero, draw a flat line at zero across the width: idle, not broken.
  if (values.length < 2) values = [0, 0];
  const max = Math.max(1, ...values);
  const step = (w - 2 * pad) / Math.max(1, values.length - 1);
  const x0 = pad;
  return values.map((v, i) => `${(x0 + i * step).toFixed(1)},${(h - pad - (v / max) * (h - 2 * pad)).toFixed(1)}`).join(' ');
}

/** A sparkline of the key's rate history. */
function spark(key) {
  const rates = series.get(key)?.rates ?? [];
  const idle = !rates.some(r => r > 0);
  return `<svg class="spark${idle ? ' idle' : ''}" width="90" height="22" role="img" aria-label="message rate over the last ${rates.length} refreshes${idle ? ': idle' : ''}">` +
    `<line class="base" x1="2" y1="20" x2="88" y2="20"/><polyline points="${points(rates, 90, 22)}"/></svg>`;
}

/** A larger chart of the key's rate history with its peak marked. */
function chart(key, label) {
  const rates = series.get(key)?.rates ?? [];
  const max = Math.max(0, ...rates);
  const idle = max === 0;
  const text = rates.length < 2 ? `${label}: waiting for a second reading` : idle ? `${label}: idle (0/s over the last ${rates.length} readings)`
    : `${label}: peak ${fmtRate(max)}, now ${fmtRate(rates[rates.length - 1])}`;
  return `<svg class="chart${idle ? ' idle' : ''}" width="480" height="110" role="img" aria-label="${esc(text)}">` +
    `<line x1="14" y1="96" x2="466" y2="96"/><text x="14" y="10">${esc(text)}</text>` +
    `<text x="2" y="99">0</text><polyline points="${points(rates, 480, 110, 14)}"/></svg>`;
}

function setStatus(text, kind = 'error') {
  const el = document.getElementById('status');
  el.className = text ? kind : '';
  el.textContent = text || '';
}

// ------------------------------------------------------------------ API calls

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const secret = sessionStorage.getItem('jnsq-secret');
  if (secret) headers.Authorization = 'Bearer ' + secret;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, { ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch (e) {
    throw new ApiError(0, 'this node did not answer (' + e.message + ')');
  }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, (body && body.message) || `HTTP ${res.status}`);
  if (body && body.message) setStatus(body.message, 'warning');
  return body;
}

async function askSecret() {
  const dialog = document.getElementById('secret');
  const input = document.getElementById('secret-value');
  input.value = '';
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'ok' && input.value) { sessionStorage.setItem('jnsq-secret', input.value); resolve(true); } else resolve(false);
  }, { once: true }));
}

function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  document.getElementById('confirm-cancel').focus();
  return new Promise(resolve => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

/** Runs a confirmed action; on 401/403 asks for a secret once and retries. */
async function act(text, path, method, body) {
  if (!IS_ADMIN) { setStatus('Only the admin users (--admin-user) may do that.'); return; }
  if (!(await confirmAction(text))) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await api(path, { method, body });
      setStatus('Done: ' + text.replace(/\?$/, '.'), 'info');
      refresh();
      return;
    } catch (e) {
      if ((e.status === 401 || e.status === 403) && attempt === 0 && await askSecret()) continue;
      setStatus(`Failed: ${e.message}`);
      return;
    }
  }
}

// ------------------------------------------------------------------ pages

function card(label, value, field) {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value" data-field="${esc(field)}">${value}</div></div>`;
}
function pausedBadge(p) { return p ? ' <span class="badge paused">paused</span>' : ''; }
function topicLink(t) { return `<a href="${BASE}/topics/${enc(t)}">${esc(t)}</a>`; }
function channelLink(t, c) { return `<a href="${BASE}/topics/${enc(t)}/${enc(c)}">${esc(c)}</a>`; }
function nodeLink(n) { return `<a href="${BASE}/nodes/${enc(n)}">${esc(n)}</a>`; }

async function clusterPage(main) {
  const [nodes, topics] = await Promise.all([api('/api/nodes'), api('/api/topics')]);
  const now = Date.now() / 1000;
  let html = `<h1>Cluster</h1><div class="cards">${card('Nodes', fmt(nodes.nodes.length), 'nodes')}` +
    `${card('Topics', fmt(topics.topics.length), 'topics')}</div>`;
  html += nodesTable(nodes.nodes, now);
  html += `<h2>Topics</h2>` + await topicsTable();
  main.innerHTML = html;
}

function nodesTable(nodes, now) {
  let html = `<table aria-label="Nodes"><thead><tr><th scope="col">Node</th><th scope="col" class="text">Host name</th>` +
    `<th scope="col" class="text">Version</th><th scope="col">TCP</th><th scope="col">HTTP</th><th scope="col">Topics</th>` +
    `<th scope="col">Uptime</th><th scope="col" class="text">Health</th></tr></thead><tbody>`;
  for (const n of nodes) {
    const healthy = n.reachable && n.health === 'OK';
    html += `<tr data-node="${esc(n.node)}"><td>${nodeLink(n.node)}</td><td class="text">${esc(n.hostname)}</td>` +
      `<td class="text">${esc(n.version)}</td><td>${esc(n.broadcast_address)}:${int(n.tcp_port)}</td><td>${int(n.http_port)}</td>` +
      `<td>${int(n.topics.length)}</td><td>${n.start_time ? duration(now - n.start_time) : '–'}</td>` +
      `<td class="text"><span class="badge ${healthy ? 'ok' : 'bad'}">${esc(n.reachable ? n.health : 'unreachable: ' + n.health)}</span></td></tr>`;
  }
  return html + '</tbody></table>';
}

/** Every topic's totals, from one /api/summary (one /stats per node, however many topics). */
async function topicsTable() {
  const summary = await api('/api/summary');
  if (!summary.topics.length) return '<p class="muted">No topics yet.</p>';
  let html = `<table aria-label="Topics"><thead><tr><th scope="col">Topic</th>` +
    `<th scope="col" title="messages at the topic, not yet handed to its channels (nsqadmin's topic depth)">Depth</th>` +
    `<th scope="col" title="messages the topic's channels hold, summed over channels and nodes">In channels</th>` +
    `<th scope="col" title="the deepest channel's backlog">Deepest channel</th><th scope="col">Messages</th>` +
    `<th scope="col">Rate</th><th scope="col">Channels</th><th scope="col">Nodes</th><th scope="col" class="text">Trend</th></tr></thead><tbody>`;
  for (const s of summary.topics) {
    const t = s.topic_name;
    const r = rate('topic:' + t, s.message_count);
    html += `<tr data-topic="${esc(t)}"><td>${topicLink(t)}${pausedBadge(s.paused)}</td><td data-field="depth">${fmt(s.depth)}</td>` +
      `<td data-field="channel_depth">${fmt(s.channel_depth)}</td><td data-field="max_channel_depth">${fmt(s.max_channel_depth)}</td>` +
      `<td data-field="message_count">${fmt(s.message_count)}</td><td>${fmtRate(r)}</td><td>${int(s.channel_count)}</td>` +
      `<td>${int(s.node_count)}</td><td class="text">${spark('topic:' + t)}</td></tr>`;
  }
  return html + '</tbody></table>';
}

async function topicsPage(main) {
  main.innerHTML = `<h1>Topics</h1>` +
    `<form class="inline" id="create" aria-label="Create a topic or channel"><label>Topic <input name="topic" required pattern="[.a-zA-Z0-9_\\-]+(#ephemeral)?"></label>` +
    `<label>Channel (optional) <input name="channel" pattern="[.a-zA-Z0-9_\\-]+(#ephemeral)?"></label><button>Create</button></form><br>` +
    await topicsTable();
  document.getElementById('create').addEventListener('submit', createSubmitted);
}

async function topicPage(main, topic) {
  const s = await api('/api/topics/' + enc(topic));
  const r = rate('topic:' + topic, s.message_count);
  let html = `<h1>Topic ${esc(topic)}${pausedBadge(s.paused)}</h1><div class="cards">` +
    card('Depth', fmt(s.depth), 'depth') +
    card('In channels', fmt(s.channels.reduce((sum, c) => sum + (Number(c.depth) || 0), 0)), 'channel_depth') +
    card('In memory', fmt(s.memory_depth), 'memory_depth') +
    card('On disk', fmt(s.backend_depth), 'backend_depth') + card('Messages', fmt(s.message_count), 'message_count') +
    card('Rate', fmtRate(r), 'rate') + `</div>${chart('topic:' + topic, 'messages/s')}` +
    `<div class="actions">` +
    `<button data-action="${s.paused ? 'unpause' : 'pause'}">${s.paused ? 'Unpause' : 'Pause'} topic</button>` +
    `<button data-action="empty">Empty topic</button><button data-action="delete" class="danger">Delete topic</button></div>`;
  html += `<h2>Channels</h2>`;
  if (!s.channels.length) html += '<p class="muted">No channels.</p>';
  else {
    html += `<table aria-label="Channels"><thead><tr><th scope="col">Channel</th><th scope="col">Depth</th><th scope="col">In flight</th>` +
      `<th scope="col">Deferred</th><th scope="col">Requeued</th><th scope="col">Timed out</th><th scope="col">Messages</th>` +
      `<th scope="col">Rate</th><th scope="col">Consumers</th><th scope="col" class="text">Trend</th></tr></thead><tbody>`;
    for (const c of s.channels) {
      const key = `channel:${topic}/${c.channel_name}`;
      const cr = rate(key, c.message_count);
      html += `<tr data-channel="${esc(c.channel_name)}"><td>${channelLink(topic, c.channel_name)}${pausedBadge(c.paused)}</td>` +
        `<td data-field="depth">${fmt(c.depth)}</td><td data-field="in_flight_count">${fmt(c.in_flight_count)}</td>` +
        `<td data-field="deferred_count">${fmt(c.deferred_count)}</td><td data-field="requeue_count">${fmt(c.requeue_count)}</td>` +
        `<td data-field="timeout_count">${fmt(c.timeout_count)}</td><td data-field="message_count">${fmt(c.message_count)}</td>` +
        `<td>${fmtRate(cr)}</td><td data-field="client_count">${fmt(c.client_count)}</td><td class="text">${spark(key)}</td></tr>`;
    }
    html += '</tbody></table>';
  }
  html += await topicSettingsHtml(topic) + deadLettersHtml(topic);
  html += `<h2>Nodes</h2><table aria-label="Topic on each node"><thead><tr><th scope="col">Node</th><th scope="col">Depth</th>` +
    `<th scope="col">In memory</th><th scope="col">On disk</th><th scope="col">Messages</th><th scope="col">Rate</th>` +
    `<th scope="col" class="text">Trend</th><th scope="col" class="text">Lookup</th></tr></thead><tbody>`;
  for (const n of s.nodes) {
    const key = `topic:${topic}@${n.node}`;
    const nr = rate(key, n.message_count);
    html += `<tr data-node="${esc(n.node)}"><td>${nodeLink(n.node)}${pausedBadge(n.paused)}</td><td data-field="depth">${fmt(n.depth)}</td>` +
      `<td>${fmt(n.memory_depth)}</td><td>${fmt(n.backend_depth)}</td><td data-field="message_count">${fmt(n.message_count)}</td>` +
      `<td>${fmtRate(nr)}</td><td class="text">${spark(key)}</td>` +
      `<td class="text"><button class="small" data-tombstone="${esc(n.node)}">Tombstone</button></td></tr>`;
  }
  main.innerHTML = html + '</tbody></table>';
  const path = '/api/topics/' + enc(topic);
  main.querySelector('[data-action="pause"], [data-action="unpause"]').onclick = e =>
    act(`${e.target.dataset.action === 'pause' ? 'Pause' : 'Unpause'} topic ${topic} on every node?`, path, 'POST', { action: e.target.dataset.action });
  main.querySelector('[data-action="empty"]').onclick = () =>
    act(`Empty topic ${topic}? Every message it holds on every node is dropped.`, path, 'POST', { action: 'empty' });
  main.querySelector('[data-action="delete"]').onclick = () =>
    act(`Delete topic ${topic} with all its channels and messages on every node?`, path, 'DELETE');
  wireTopicSettings(main, topic);
  main.querySelectorAll('[data-tombstone]').forEach(b => b.onclick = () =>
    act(`Tombstone topic ${topic} on node ${b.dataset.tombstone}? Lookup stops listing that node for it for a while.`,
      '/api/nodes/' + enc(b.dataset.tombstone), 'DELETE', { topic }));
}

function percentiles(l) {
  if (!l || !l.percentiles || !l.percentiles.length) return '<p class="muted">No end-to-end latency percentiles configured (--e2e-processing-latency-percentile).</p>';
  return `<table aria-label="End-to-end latency"><thead><tr><th scope="col">Percentile</th><th scope="col">Latency</th></tr></thead><tbody>` +
    l.percentiles.map(p => `<tr><td>p${(Number(p.quantile) * 100).toFixed(1).replace(/\.0$/, '')}</td><td>${nanos(p.value)}</td></tr>`).join('') +
    '</tbody></table>';
}

let peeked = null;   // {topic, channel, html} kept across refreshes of the channel page
let peekCount = '10'; // the chosen number of messages to peek, kept across refreshes

async function channelPage(main, topic, channel) {
  const s = await api(`/api/topics/${enc(topic)}/${enc(channel)}`);
  const key = `channel:${topic}/${channel}`;
  const r = rate(key, s.message_count);
  let html = `<h1>Channel ${esc(channel)} <span class="muted">of</span> ${topicLink(topic)}${pausedBadge(s.paused)}</h1><div class="cards">` +
    card('Depth', fmt(s.depth), 'depth') + card('In flight', fmt(s.in_flight_count), 'in_flight_count') +
    card('Deferred', fmt(s.deferred_count), 'deferred_count') + card('Requeued', fmt(s.requeue_count), 'requeue_count') +
    card('Timed out', fmt(s.timeout_count), 'timeout_count') + card('Messages', fmt(s.message_count), 'message_count') +
    card('Consumers', fmt(s.client_count), 'client_count') + card('Rate', fmtRate(r), 'rate') + `</div>${chart(key, 'messages/s')}` +
    `<div class="actions"><button data-action="${s.paused ? 'unpause' : 'pause'}">${s.paused ? 'Unpause' : 'Pause'} channel</button>` +
    `<button data-action="empty">Empty channel</button><button data-action="delete" class="danger">Delete channel</button>` +
    `<span class="muted">|</span><label>Peek <select id="peek-count" aria-label="Messages to peek">` +
    ['5', '10', '25', '100'].map(n => `<option${n === peekCount ? ' selected' : ''}>${n}</option>`).join('') + `</select></label>` +
    `<button data-action="peek">Peek at next messages</button></div><div id="peek"></div>`;
  const nodes = s.nodes || [];
  html += `<h2>Nodes</h2><table aria-label="Channel on each node"><thead><tr><th scope="col">Node</th><th scope="col">Depth</th>` +
    `<th scope="col">In memory</th><th scope="col">On disk</th><th scope="col">In flight</th><th scope="col">Deferred</th>` +
    `<th scope="col">Requeued</th><th scope="col">Timed out</th><th scope="col">Messages</th><th scope="col">Consumers</th></tr></thead><tbody>`;
  const clients = [];
  for (const n of nodes) {
    html += `<tr data-node="${esc(n.node)}"><td>${nodeLink(n.node)}${pausedBadge(n.paused)}</td><td>${fmt(n.depth)}</td><td>${fmt(n.memory_depth)}</td>` +
      `<td>${fmt(n.backend_depth)}</td><td>${fmt(n.in_flight_count)}</td><td>${fmt(n.deferred_count)}</td><td>${fmt(n.requeue_count)}</td>` +
      `<td>${fmt(n.timeout_count)}</td><td>${fmt(n.message_count)}</td><td>${fmt(n.client_count)}</td></tr>`;
    clients.push(...(n.clients || []));
  }
  html += '</tbody></table><h2>Consumers</h2>';
  if (!clients.length) html += '<p class="muted">No consumers connected.</p>';
  else {
    html += `<table aria-label="Consumers"><thead><tr><th scope="col">Client</th><th scope="col" class="text">Address</th>` +
      `<th scope="col" class="text">Node</th><th scope="col" class="text">User agent</th><th scope="col">RDY</th><th scope="col">In flight</th>` +
      `<th scope="col">Finished</th><th scope="col">Requeued</th><th scope="col">Messages</th><th scope="col">Connected</th>` +
      `<th scope="col" class="text">Connection</th></tr></thead><tbody>`;
    for (const c of clients) {
      const flags = [c.tls ? 'TLS' + (c.tls_version ? ' ' + c.tls_version : '') : '', c.snappy ? 'snappy' : '', c.deflate ? 'deflate' : '',
        c.authed ? 'authed' + (c.auth_identity ? ': ' + c.auth_identity : '') : ''].filter(Boolean).join(', ') || 'plain';
      html += `<tr><td>${esc(c.client_id || c.hostname)}</td><td class="text">${esc(c.remote_address)}</td><td class="text">${esc(c.node)}</td>` +
        `<td class="text">${esc(c.user_agent)}</td><td>${fmt(c.ready_count)}</td><td>${fmt(c.in_flight_count)}</td><td>${fmt(c.finish_count)}</td>` +
        `<td>${fmt(c.requeue_count)}</td><td>${fmt(c.message_count)}</td><td>${duration(c.connected)}</td><td class="text">${esc(flags)}</td></tr>`;
    }
    html += '</tbody></table>';
  }
  html += await channelSettingsHtml(topic, channel);
  html += '<h2>End-to-end processing latency</h2>' + nodes.map(n =>
    `<h3 class="muted">${esc(n.node)}</h3>` + percentiles(n.e2e_processing_latency)).join('');
  main.innerHTML = html;
  if (peeked && peeked.topic === topic && peeked.channel === channel) document.getElementById('peek').innerHTML = peeked.html;
  const path = `/api/topics/${enc(topic)}/${enc(channel)}`;
  main.querySelector('[data-action="pause"], [data-action="unpause"]').onclick = e =>
    act(`${e.target.dataset.action === 'pause' ? 'Pause' : 'Unpause'} channel ${channel} of topic ${topic} on every node?`, path, 'POST', { action: e.target.dataset.action });
  main.querySelector('[data-action="empty"]').onclick = () =>
    act(`Empty channel ${channel}? Its queued messages on every node are dropped.`, path, 'POST', { action: 'empty' });
  main.querySelector('[data-action="delete"]').onclick = () =>
    act(`Delete channel ${channel} of topic ${topic} on every node?`, path, 'DELETE');
  wireChannelSettings(main, topic, channel);
  main.querySelector('#peek-count').onchange = e => { peekCount = e.target.value; };
  main.querySelector('[data-action="peek"]').onclick = () => peek(topic, channel);
}

async function peek(topic, channel, retried = false) {
  const count = peekCount;
  try {
    const p = await api(`/api/topics/${enc(topic)}/${enc(channel)}/peek?count=${enc(count)}`);
    let html = '<h2>Next messages</h2><p class="muted">Peeking consumes nothing: these stay queued, in this order, on each node.</p>';
    for (const n of p.nodes) {
      html += `<h3>${esc(n.node)} <span class="muted">(depth ${fmt(n.depth)})</span></h3>`;
      if (!n.messages.length) { html += '<p class="muted">Nothing queued.</p>'; continue; }
      html += `<table aria-label="Queued messages on ${esc(n.node)}"><thead><tr><th scope="col">#</th><th scope="col" class="text">Id</th>` +
        `<th scope="col">Attempts</th><th scope="col" class="text">Published</th><th scope="col">Size</th><th scope="col" class="text">Where</th>` +
        `<th scope="col" class="text">Body</th></tr></thead><tbody>`;
      n.messages.forEach((m, i) => {
        html += `<tr class="peeked"><td>${i + 1}</td><td class="text">${esc(m.id)}</td><td>${int(m.attempts)}</td>` +
          `<td class="text">${esc(new Date(m.timestamp / 1e6).toISOString())}</td><td>${fmt(m.size)}</td><td class="text">${m.on_disk ? 'disk' : 'memory'}</td>` +
          `<td class="body">${m.encoding === 'base64' ? '<span class="badge">base64</span> ' : ''}${esc(m.body)}${m.truncated ? '…' : ''}</td></tr>`;
      });
      html += '</tbody></table>';
    }
    peeked = { topic, channel, html };
    const out = document.getElementById('peek');   // looked up now: a refresh may have redrawn the page meanwhile
    if (out) out.innerHTML = html;
  } catch (e) {
    if ((e.status === 401 || e.status === 403) && !retried && await askSecret()) return peek(topic, channel, true);
    setStatus('Peek failed: ' + e.message);
  }
}

async function nodesPage(main) {
  const nodes = await api('/api/nodes');
  main.innerHTML = `<h1>Nodes</h1>` + nodesTable(nodes.nodes, Date.now() / 1000);
}

async function nodePage(main, node) {
  const s = await api('/api/nodes/' + enc(node));
  const now = Date.now() / 1000;
  let html = `<h1>Node ${esc(node)}</h1><div class="cards">` + card('Host name', esc(s.hostname), 'hostname') +
    card('Version', esc(s.version), 'version') + card('TCP port', int(s.tcp_port), 'tcp_port') + card('Uptime', duration(now - s.start_time), 'uptime') +
    card('Health', esc(s.health), 'health') + card('Messages', fmt(s.total_messages), 'total_messages') + card('Clients', fmt(s.total_clients), 'total_clients') + '</div>';
  html += `<table aria-label="Topics and channels on ${esc(node)}"><thead><tr><th scope="col">Topic / channel</th><th scope="col">Depth</th>` +
    `<th scope="col">On disk</th><th scope="col">In flight</th><th scope="col">Deferred</th><th scope="col">Messages</th>` +
    `<th scope="col">Rate</th><th scope="col">Consumers</th></tr></thead><tbody>`;
  for (const t of s.topics) {
    const tr = rate(`topic:${t.topic_name}@${node}`, t.message_count);
    html += `<tr><td>${topicLink(t.topic_name)}${pausedBadge(t.paused)}</td><td>${fmt(t.depth)}</td><td>${fmt(t.backend_depth)}</td><td></td><td></td>` +
      `<td>${fmt(t.message_count)}</td><td>${fmtRate(tr)}</td><td></td></tr>`;
    for (const c of t.channels) {
      const cr = rate(`channel:${t.topic_name}/${c.channel_name}@${node}`, c.message_count);
      html += `<tr><td>&nbsp;&nbsp;↳ ${channelLink(t.topic_name, c.channel_name)}${pausedBadge(c.paused)}</td><td>${fmt(c.depth)}</td>` +
        `<td>${fmt(c.backend_depth)}</td><td>${fmt(c.in_flight_count)}</td><td>${fmt(c.deferred_count)}</td><td>${fmt(c.message_count)}</td>` +
        `<td>${fmtRate(cr)}</td><td>${fmt(c.client_count)}</td></tr>`;
    }
  }
  main.innerHTML = html + '</tbody></table>';
}

/**
 * nsqadmin's lookup page: what the cluster's lookup knows that no node has any more (topics and
 * channels registered, then left behind), with a way to delete them, and a form to create one.
 */
async function lookupPage(main) {
  const [all, inactive] = await Promise.all([api('/api/topics'), api('/api/topics?inactive=true')]);
  const left = Object.entries(inactive.topics || {});
  let html = `<h1>Lookup</h1><p class="muted">Every node answers nsqlookupd's API from the cluster's replicated lookup state: ` +
    `${fmt(all.topics.length)} topic(s) known.</p>`;
  html += `<form class="inline" id="create" aria-label="Create a topic or channel"><label>Topic <input name="topic" required pattern="[.a-zA-Z0-9_\\-]+(#ephemeral)?"></label>` +
    `<label>Channel (optional) <input name="channel" pattern="[.a-zA-Z0-9_\\-]+(#ephemeral)?"></label><button>Create</button></form>`;
  html += '<h2>Inactive topics and channels</h2>';
  if (!left.length) html += '<p class="muted">None: every topic lookup knows is on some node.</p>';
  else {
    html += `<table aria-label="Inactive topics"><thead><tr><th scope="col">Topic</th><th scope="col" class="text">Channels</th>` +
      `<th scope="col" class="text">Lookup</th></tr></thead><tbody>`;
    for (const [t, channels] of left) {
      html += `<tr data-topic="${esc(t)}"><td>${esc(t)}</td><td class="text">${(channels || []).map(c =>
        `${esc(c)} <button class="small" data-delete-lookup="${esc(t)}" data-channel="${esc(c)}">Delete</button>`).join(' ') || '–'}</td>` +
        `<td class="text"><button class="small danger" data-delete-lookup="${esc(t)}">Delete topic</button></td></tr>`;
    }
    html += '</tbody></table>';
  }
  main.innerHTML = html;
  main.querySelectorAll('[data-delete-lookup]').forEach(b => b.onclick = () => {
    const t = b.dataset.deleteLookup, c = b.dataset.channel;
    act(c ? `Delete channel ${c} of topic ${t} from lookup?` : `Delete topic ${t} from lookup?`,
      '/api/topics/' + enc(t) + (c ? '/' + enc(c) : ''), 'DELETE');
  });
  main.querySelector('#create').addEventListener('submit', createSubmitted);
}

function createSubmitted(e) {
  e.preventDefault();
  const f = new FormData(e.target);
  const topic = f.get('topic'), channel = f.get('channel');
  act(`Create ${channel ? `channel ${channel} of topic ${topic}` : `topic ${topic}`} on this node?`, '/api/topics', 'POST', { topic, channel });
}

async function counterPage(main) {
  const c = await api('/api/counter');
  let total = 0;
  for (const k in c.stats) total += c.stats[k].message_count;
  const r = rate('counter', total);
  main.innerHTML = `<h1>Messages processed</h1><div class="cards">${card('Total, all channels', fmt(total), 'total')}` +
    `${card('Rate', fmtRate(r), 'rate')}</div>${chart('counter', 'messages/s')}`;
}

// ------------------------------------------------------------------ routing

function route() {
  const path = location.pathname.startsWith(BASE + '/') ? location.pathname.slice(BASE.length) : location.pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return clusterPage;
  if (parts[0] === 'topics' && parts.length === 1) return topicsPage;
  if (parts[0] === 'topics' && parts.length === 2) return main => topicPage(main, parts[1]);
  if (parts[0] === 'topics' && parts.length === 3) return main => channelPage(main, parts[1], parts[2]);
  if (parts[0] === 'nodes' && parts.length === 1) return nodesPage;
  if (parts[0] === 'nodes' && parts.length === 2) return main => nodePage(main, parts[1]);
  if (parts[0] === 'counter') return counterPage;
  if (parts[0] === 'lookup' && parts.length === 1) return lookupPage;
  return main => { main.innerHTML = `<h1>Not found</h1><p>There is no such page. <a href="${BASE}/">Back to the cluster</a>.</p>`; };
}

async function refresh() {
  clearTimeout(timer);
  const mine = generation;
  const main = document.getElementById('main');
  // Do not redraw under an open dialog or while the user is typing in a form.
  const focused = document.activeElement;
  const busy = document.querySelector('dialog[open]') || (focused && focused.id !== 'refresh' && ['INPUT', 'SELECT'].includes(focused.tagName));
  if (!busy) {
    try {
      await route()(main);
      saveSeries();
      if (document.getElementById('status').className === 'error') setStatus('');
    } catch (e) {
      if (mine !== generation) return;
      if (e.status === 404) main.innerHTML = `<h1>Not found</h1><p>${esc(e.message)}: it may have been deleted. <a href="${BASE}/topics">All topics</a>.</p>`;
      else setStatus(`Could not load this page: ${e.message}`);
    }
  }
  if (mine !== generation) return;
  const every = Number(document.getElementById('refresh').value);
  if (every > 0) timer = setTimeout(refresh, every);
}

function navigate(path) {
  history.pushState(null, '', path);
  generation++;
  setStatus('');
  refresh();
}

document.addEventListener('click', e => {
  const a = e.target.closest('a');
  if (!a || a.origin !== location.origin || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.pathname);
});
window.addEventListener('popstate', () => { generation++; refresh(); });
document.addEventListener('DOMContentLoaded', () => {
  if (!IS_ADMIN) document.body.classList.add('readonly');
  document.getElementById('refresh').addEventListener('change', () => refresh());
  refresh();
});

// ------------------------------------------------------------------ settings, rewind, dead letters (not in nsqadmin)

function field(id, label, value, hint) {
  return `<label class="setting">${esc(label)} <input id="${id}" value="${esc(value == null ? '' : value)}" placeholder="${esc(hint)}" aria-label="${esc(label)}"></label>`;
}

async function topicSettingsHtml(topic) {
  let t;
  try { t = await api('/api/settings/' + enc(topic)); } catch (e) { return `<h2>Settings</h2><p class="muted">Settings unavailable: ${esc(e.message)}</p>`; }
  return `<h2>Settings</h2><form id="topic-settings" class="settings">` +
    field('set-message_ttl', 'Message TTL', t.message_ttl, 'e.g. 1h; 0s: none') +
    field('set-retention', 'Retention', t.retention, 'e.g. 24h; 0s: none') +
    field('set-max_bytes', 'Max bytes', t.max_bytes, 'e.g. 10GiB; 0: no bound') +
    field('set-max_messages', 'Max messages', t.max_messages, '0: no bound') +
    `<label class="setting">When full <select id="set-when_full" aria-label="When full">` +
    ['refuse', 'drop-oldest'].map(w => `<option${w === t.when_full ? ' selected' : ''}>${w}</option>`).join('') + `</select></label>` +
    `<button type="submit" data-action="save-topic-settings">Save settings</button></form>`;
}

let letters = null;   // {topic, html} kept across refreshes of the topic page

function deadLettersHtml(topic) {
  return `<h2>Dead letters</h2><div class="actions"><button data-action="browse-letters">Browse this topic as a dead-letter topic</button>` +
    `<button data-action="requeue-all">Move every letter back</button></div>` +
    `<div id="letters">${letters && letters.topic === topic ? letters.html : ''}</div>`;
}

function wireTopicSettings(main, topic) {
  const form = main.querySelector('#topic-settings');
  if (form) form.onsubmit = e => {
    e.preventDefault();
    const v = id => document.getElementById(id).value.trim();
    act(`Change the settings of topic ${topic} on every node?`, '/api/settings/' + enc(topic), 'POST', {
      message_ttl: v('set-message_ttl') || '0s', retention: v('set-retention') || '0s', max_bytes: v('set-max_bytes') || '0',
      max_messages: Number(v('set-max_messages') || 0), when_full: v('set-when_full'),
    });
  };
  main.querySelector('[data-action="browse-letters"]').onclick = () => browseLetters(topic);
  main.querySelector('[data-action="requeue-all"]').onclick = () =>
    act(`Move every dead letter of ${topic} back to the channel it came from?`, '/api/dead-letters/' + enc(topic), 'POST', { all: true });
}

async function browseLetters(topic) {
  try {
    const p = await api(`/api/dead-letters/${enc(topic)}?count=50`);
    let html = '';
    for (const n of p.nodes) {
      html += `<h3>${esc(n.node)}</h3>`;
      if (!n.letters.length) { html += '<p class="muted">No letters.</p>'; continue; }
      html += `<table aria-label="Dead letters on ${esc(n.node)}"><thead><tr><th scope="col">Seq</th><th scope="col" class="text">From</th>` +
        `<th scope="col">Attempts</th><th scope="col" class="text">Why</th><th scope="col" class="text">When</th>` +
        `<th scope="col" class="text">Body</th><th scope="col" class="text"></th></tr></thead><tbody>`;
      for (const l of n.letters) {
        const from = l.origin_topic ? `${l.origin_topic}/${l.origin_channel}` : '–';
        const when = l.dead_lettered_at ? new Date(l.dead_lettered_at).toISOString() : new Date(l.timestamp / 1e6).toISOString();
        html += `<tr class="letter"><td>${fmt(l.seq)}</td><td class="text">${esc(from)}</td><td>${l.attempts == null ? '–' : int(l.attempts)}</td>` +
          `<td class="text">${esc(l.reason || '')}</td><td class="text">${esc(when)}</td>` +
          `<td class="body">${l.encoding === 'base64' ? '<span class="badge">base64</span> ' : ''}${esc(l.body)}${l.truncated ? '…' : ''}</td>` +
          `<td class="text">${l.requeued ? '<span class="badge">moved back</span>' : (l.origin_topic ?
            `<button class="small" data-requeue="${esc(l.seq)}" data-node="${esc(n.node)}">Move back</button>` : '')}</td></tr>`;
      }
      html += '</tbody></table>';
    }
    letters = { topic, html };
    const out = document.getElementById('letters');
    if (out) {
      out.innerHTML = html;
      out.querySelectorAll('[data-requeue]').forEach(b => b.onclick = () =>
        act(`Move letter ${b.dataset.requeue} back to its channel?`, '/api/dead-letters/' + enc(topic), 'POST',
          { node: b.dataset.node, seq: Number(b.dataset.requeue) }).then(() => browseLetters(topic)));
    }
  } catch (e) {
    setStatus('Browsing dead letters failed: ' + e.message);
  }
}

async function channelSettingsHtml(topic, channel) {
  let c;
  try { c = await api(`/api/settings/${enc(topic)}/${enc(channel)}`); } catch (e) { return `<h2>Settings</h2><p class="muted">Settings unavailable: ${esc(e.message)}</p>`; }
  return `<h2>Settings</h2><form id="channel-settings" class="settings">` +
    field('set-max_attempts', 'Max attempts', c.max_attempts, '0: no limit') +
    field('set-dead_letter_topic', 'Dead-letter topic', c.dead_letter_topic, 'none') +
    field('set-message_ttl', 'Message TTL', c.message_ttl, 'e.g. 1h; 0s: none') +
    `<span class="muted">${c.source === 'node' ? 'the node\'s defaults' : 'this channel\'s own'}</span>` +
    `<button type="submit" data-action="save-channel-settings">Save settings</button></form>` +
    `<form id="rewind" class="settings">${field('rewind-to', 'Rewind to', '', 'RFC 3339 time, unix ms, or earliest')}` +
    `<button type="submit" data-action="rewind">Rewind channel</button></form>`;
}

function wireChannelSettings(main, topic, channel) {
  const form = main.querySelector('#channel-settings');
  if (!form) return;
  const v = id => document.getElementById(id).value.trim();
  form.onsubmit = e => {
    e.preventDefault();
    act(`Change the settings of channel ${channel} of ${topic} on every node?`, `/api/settings/${enc(topic)}/${enc(channel)}`, 'POST', {
      max_attempts: Number(v('set-max_attempts') || 0), dead_letter_topic: v('set-dead_letter_topic') || null,
      message_ttl: v('set-message_ttl') || '0s',
    });
  };
  main.querySelector('#rewind').onsubmit = e => {
    e.preventDefault();
    const to = v('rewind-to');
    if (!to) { setStatus('Say where to rewind to: an RFC 3339 time, unix milliseconds, or earliest.'); return; }
    act(`Rewind channel ${channel} of ${topic} to ${to}? Everything published since is delivered again.`,
      `/api/rewind/${enc(topic)}/${enc(channel)}`, 'POST', { to });
  };
}
