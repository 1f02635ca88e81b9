// ringmaster dashboard: the agents, queues and trunks board.
'use strict';

import { PAGE, api, query, session, throttled } from './api.js';
import { clear, fmtMs, h, mount, pager } from './dom.js';
import { loadHealth } from './stream.js';

export function agentsView() {
  const since = new Map(); // agent id → when the page saw its state change
  const pageOpened = Date.now();
  const rows = new Map();
  const agentBody = h('tbody');
  const agents = h('table', { id: 'agents' },
    h('thead', {}, h('tr', {}, ['Agent', 'Name', 'State', 'Time in state', 'Calls handled', 'Talk time', 'Registered contacts'].map((t) => h('th', {}, t)))), agentBody);
  const agentPages = pager((t) => api('GET', '/agents' + query({ page_size: PAGE, page_token: t })), (list) => {
    clear(agentBody);
    rows.clear();
    for (const a of list) {
      const r = { state: h('td', { class: 'state' }, a.status), time: h('td', { class: 'num' }), handled: h('td', { class: 'num handled' }, a.total_handled_count), talk: h('td', { class: 'num talk' }, fmtMs(a.total_talk_ms)), contacts: h('td', { class: 'num' }, (a.contacts || []).length) };
      rows.set(a.id, r);
      agentBody.append(h('tr', { 'data-id': a.id }, h('td', {}, a.username), h('td', {}, a.name), r.state, r.time, r.handled, r.talk, r.contacts));
    }
    if (!list.length) agentBody.append(h('tr', {}, h('td', { colspan: 7, class: 'note' }, 'No agents.')));
    tick();
  });
  function tick() {
    const now = Date.now();
    for (const [id, r] of rows) {
      const t = since.get(id);
      r.time.textContent = t ? fmtMs(now - t) : '≥ ' + fmtMs(now - pageOpened);
    }
  }
  const ticker = setInterval(tick, 1000);
  function refreshHandled(id) {
    throttled('agent:' + id, async () => {
      const r = rows.get(id);
      if (!r) return;
      const a = await api('GET', `/agents/${id}`);
      r.handled.textContent = a.total_handled_count;
      r.talk.textContent = fmtMs(a.total_talk_ms);
    });
  }

  const queueRows = new Map();
  const queueBody = h('tbody');
  const queues = h('table', { id: 'queues' },
    h('thead', {}, h('tr', {}, ['Queue', 'Waiting now', 'Longest wait', 'Being served', 'Average wait', 'Service level', 'Incoming', 'Served', 'Abandoned'].map((t) => h('th', {}, t)))), queueBody);
  const queuePages = pager((t) => api('GET', '/queues' + query({ page_size: 20, page_token: t })), (list) => {
    clear(queueBody);
    queueRows.clear();
    for (const q of list) {
      const cells = ['waiting_count', 'longest_wait_ms', 'serving_count', 'average_wait_ms', 'service_level', 'total_incoming_count', 'total_serviced_count', 'total_abandoned_count']
        .map((f) => [f, h('td', { class: 'num ' + f }, '—')]);
      queueRows.set(q.id, new Map(cells));
      queueBody.append(h('tr', { 'data-id': q.id }, h('td', {}, q.name || q.id), cells.map(([, c]) => c)));
      refreshQueue(q.id);
    }
    if (!list.length) queueBody.append(h('tr', {}, h('td', { colspan: 9, class: 'note' }, 'No queues.')));
  });
  function refreshQueue(id) {
    throttled('queue-stats:' + id, async () => {
      const cells = queueRows.get(id);
      if (!cells) return;
      const st = await api('GET', `/queues/${id}/stats`);
      for (const [f, c] of cells) {
        const v = st[f];
        c.textContent = f.endsWith('_ms') ? fmtMs(v) : f === 'service_level' ? (v === null ? '—' : v + ' %') : v;
      }
    });
  }

  const trunkBody = h('tbody');
  const trunks = h('table', { id: 'trunk-health' },
    h('thead', {}, h('tr', {}, ['Trunk', 'State', 'Why', 'Down for', 'Calls now'].map((t) => h('th', {}, t)))), trunkBody);
  function showTrunks(health) {
    clear(trunkBody);
    for (const t of health.trunks || []) {
      trunkBody.append(h('tr', {}, h('td', {}, t.name), h('td', { class: 'state' }, t.state), h('td', {}, t.reason),
        h('td', { class: 'num' }, t.down_secs === null || t.down_secs === undefined ? '' : fmtMs(t.down_secs * 1000)),
        h('td', { class: 'num' }, t.calls_in_flight)));
    }
  }

  mount('Agents & queues',
    h('div', { class: 'card' }, h('h2', {}, 'Agents'), agents, agentPages,
      h('p', { class: 'note' }, 'Time in state counts from the change this page saw; "≥" before the first one.')),
    h('div', { class: 'card' }, h('h2', {}, 'Queues'), queues, queuePages),
    h('div', { class: 'card' }, h('h2', {}, 'Trunks'), trunks));
  agentPages.restart();
  queuePages.restart();
  if (session.lastHealth) showTrunks(session.lastHealth);
  throttled('health', loadHealth);
  session.view = {
    onEvents(batch) {
      for (const [id, a] of batch.agents) {
        const r = rows.get(id);
        if (!r) continue;
        if (a.status && r.state.textContent !== a.status) since.set(id, Date.now());
        if (a.status) r.state.textContent = a.status;
        if (a.contacts) r.contacts.textContent = a.contacts.length;
      }
      tick();
      for (const id of batch.handled) if (rows.has(id)) refreshHandled(id);
      for (const id of batch.queues) if (queueRows.has(id)) refreshQueue(id);
    },
    onHealth: showTrunks,
    dispose() {
      clearInterval(ticker);
    },
  };
}
