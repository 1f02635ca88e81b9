// ringmaster dashboard: the campaign list and a campaign's page: live figures, dispositions, calls.
'use strict';

import { PAGE, api, query, session, showError, throttled, withToken } from './api.js';
import { clear, fmtMs, h, mount, pager, s } from './dom.js';

const RATE_WINDOW_MS = 10000;
const DISPOSITIONS = ['answered', 'busy', 'no_answer', 'rejected', 'invalid_number',
  'unauthorized', 'failed', 'cancelled', 'unknown', 'dnc', 'opted_out', 'abandoned', 'machine'];

// --- campaign figures --------------------------------------------------------------------

// Attempts seen per campaign over the last RATE_WINDOW_MS, from its stats as they are
// fetched: attempts/s is their slope.
const samples = new Map();
function attemptsPerSecond(id, stats) {
  const now = Date.now();
  const list = (samples.get(id) || []).filter((x) => now - x.t <= RATE_WINDOW_MS);
  list.push({ t: now, n: stats.attempts });
  samples.set(id, list);
  if (stats.status !== 'run' && stats.status !== 'stopping') return 0;
  const first = list[0];
  const dt = (now - first.t) / 1000;
  return dt > 0 ? (stats.attempts - first.n) / dt : null;
}

function progressBar(pct) {
  const bar = h('div', { class: 'bar' });
  const label = h('span', { class: 'label' });
  const el = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, bar, label);
  el.set = (p) => {
    bar.style.width = p + '%';
    label.textContent = p + ' %';
    el.setAttribute('aria-valuenow', p);
    el.dataset.progress = p;
  };
  el.set(pct || 0);
  return el;
}

/** Dispositions as horizontal bars, largest first. */
function dispositionChart(dispositions, width) {
  const entries = Object.entries(dispositions || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const rowH = 16;
  const labelW = 100;
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const height = Math.max(rowH, entries.length * rowH);
  const svg = s('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'dispositions' });
  if (!entries.length) svg.append(s('text', { x: 0, y: 12 }, 'no attempts yet'));
  entries.forEach(([name, n], i) => {
    const y = i * rowH;
    const w = Math.max(1, Math.round(((width - labelW - 50) * n) / max));
    svg.append(
      s('text', { x: 0, y: y + 12 }, name),
      s('rect', { class: name, x: labelW, y: y + 3, width: w, height: rowH - 6, rx: 2 }),
      s('text', { x: labelW + w + 4, y: y + 12, 'data-disposition': name }, String(n)),
    );
  });
  return svg;
}

async function setStatus(id, status) {
  await api('PUT', `/campaigns/${id}/status`, { status });
}

function runButtons(id, getStatus, after) {
  const start = h('button', { type: 'button', class: 'start' }, 'Start');
  const stop = h('button', { type: 'button', class: 'danger stop' }, 'Stop');
  const act = (status) => async () => {
    showError('');
    try {
      await setStatus(id, status);
      after();
    } catch (e) {
      showError(e);
    }
  };
  start.addEventListener('click', act('run'));
  stop.addEventListener('click', act('stop'));
  const el = h('span', { class: 'buttons' }, start, ' ', stop);
  el.update = () => {
    const st = getStatus();
    start.disabled = st === 'run' || st === 'stopping' || st === 'scheduled';
    stop.disabled = !(st === 'run' || st === 'scheduled');
  };
  el.update();
  return el;
}

export function campaignsView() {
  const rows = new Map(); // campaign id → row parts
  const tbody = h('tbody');
  const table = h('table', { id: 'campaigns' },
    h('thead', {}, h('tr', {},
      h('th', {}, 'Campaign'), h('th', {}, 'Status'), h('th', {}, 'Progress'),
      h('th', { class: 'num' }, 'Attempts'), h('th', { class: 'num' }, 'Attempts/s'),
      h('th', {}, 'Dispositions'), h('th', {}, ''))),
    tbody);
  const load = (t) => api('GET', '/campaigns' + query({ page_size: 20, page_token: t }));
  const pages = pager(load, (list) => {
    rows.clear();
    clear(tbody);
    for (const c of list) {
      const r = { status: c.status };
      r.statusEl = h('span', { class: 'status ' + c.status }, c.status);
      r.progress = progressBar(0);
      r.attempts = h('td', { class: 'num attempts' }, '—');
      r.rate = h('td', { class: 'num rate' }, '—');
      r.chart = h('td', { class: 'dispositions' });
      r.buttons = runButtons(c.id, () => r.status, () => refresh(c.id));
      r.row = h('tr', { 'data-id': c.id },
        h('td', {}, h('a', { href: '#/campaign/' + c.id }, c.name || c.id)),
        h('td', {}, r.statusEl), h('td', {}, r.progress), r.attempts, r.rate, r.chart,
        h('td', {}, r.buttons));
      rows.set(c.id, r);
      tbody.append(r.row);
      refresh(c.id);
    }
    if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'note' }, 'No campaigns yet: create one under "New campaign".')));
  });

  function refresh(id) {
    throttled('campaign-stats:' + id, async () => {
      const r = rows.get(id);
      if (!r) return;
      const stats = await api('GET', `/campaigns/${id}/stats`);
      r.status = stats.status;
      r.statusEl.textContent = stats.status;
      r.statusEl.className = 'status ' + stats.status;
      r.progress.set(stats.progress);
      r.attempts.textContent = stats.attempts;
      const rate = attemptsPerSecond(id, stats);
      r.rate.textContent = rate === null ? '—' : rate.toFixed(1);
      clear(r.chart).append(dispositionChart(stats.dispositions, 300));
      r.buttons.update();
    });
  }

  mount('Campaigns', h('div', { class: 'card' }, table, pages));
  pages.restart();
  session.view = {
    onEvents(batch) {
      for (const id of batch.calls) if (rows.has(id)) refresh(id);
      for (const [id, ev] of batch.campaigns) {
        if (rows.has(id)) refresh(id);
        else if (ev.type === 'campaign_created' && pages.page === 0) throttled('campaign-list', () => pages.reload());
      }
    },
  };
}

export async function campaignView(id) {
  const el = mount('Campaign');
  let campaign;
  try {
    campaign = await api('GET', `/campaigns/${id}`);
  } catch (e) {
    showError(e);
    return;
  }
  el.querySelector('h1').textContent = 'Campaign ' + (campaign.name || id);
  let status = campaign.status;
  const statusEl = h('span', { class: 'status ' + status, id: 'campaign-status' }, status);
  const progress = progressBar(0);
  progress.id = 'campaign-progress';
  const kpi = (name) => h('b', { id: 'kpi-' + name }, '—');
  const k = { total: kpi('total'), succeeded: kpi('succeeded'), failed: kpi('failed'), queued: kpi('queued'), dialing: kpi('dialing'), attempts: kpi('attempts'), rate: kpi('rate') };
  const chart = h('div', { id: 'campaign-dispositions' });
  const buttons = runButtons(id, () => status, () => refreshStats());
  const csv = h('a', { id: 'csv', href: withToken(`/campaigns/${id}/campaigncalls.csv`), download: `campaign-${id}-campaigncalls.csv` }, 'Download calls as CSV');

  // The calls, filtered, a page at a time.
  const disposition = h('select', { id: 'filter-disposition' }, h('option', { value: '' }, 'any'), DISPOSITIONS.map((d) => h('option', { value: d }, d)));
  const digits = h('input', { id: 'filter-digits', placeholder: 'e.g. 1', size: 6 });
  const agent = h('select', { id: 'filter-agent' }, h('option', { value: '' }, 'any'));
  const agentNames = new Map();
  api('GET', '/agents?page_size=100').then((page) => {
    for (const a of page.result || []) {
      agentNames.set(a.id, a.username);
      agent.append(h('option', { value: a.id }, a.username));
    }
  }).catch(showError);
  const tbody = h('tbody');
  const calls = h('table', { id: 'calls' },
    h('thead', {}, h('tr', {}, ['Created', 'Destination', 'Status', 'Disposition', 'SIP', 'Try', 'Digits', 'Agent', 'Setup', 'Talk'].map((t) => h('th', {}, t)))),
    tbody);
  const load = (t) => api('GET', `/campaigns/${id}/campaigncalls` + query({
    page_size: PAGE, page_token: t, disposition: disposition.value, digits: digits.value, agent_id: agent.value,
  }));
  const pages = pager(load, (list) => {
    clear(tbody);
    for (const c of list.slice(0, PAGE)) {
      tbody.append(h('tr', { 'data-id': c.id },
        h('td', {}, c.tm_create), h('td', { class: 'destination' }, (c.destination || {}).target || ''),
        h('td', {}, c.status), h('td', { class: 'disposition' }, c.disposition || ''),
        h('td', { class: 'num' }, c.sip_code || ''), h('td', { class: 'num' }, c.try_count),
        h('td', { class: 'digits' }, (c.flow_result || {}).digits || ''),
        h('td', { class: 'agent' }, c.agent_id ? agentNames.get(c.agent_id) || c.agent_id : ''),
        h('td', { class: 'num' }, fmtMs(c.setup_ms)), h('td', { class: 'num' }, fmtMs(c.talk_ms))));
    }
    if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 10, class: 'note' }, 'No calls match.')));
  });
  const filters = h('form', { id: 'filters', class: 'row' },
    h('label', {}, 'Disposition', disposition), h('label', {}, 'Digits', digits), h('label', {}, 'Agent', agent),
    h('span', {}, h('button', { type: 'submit' }, 'Apply')));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    pages.restart();
  });

  el.append(
    h('div', { class: 'card' },
      h('div', { class: 'row' }, h('span', {}, statusEl), h('span', {}, buttons), h('span', {}, csv)),
      h('p', {}, progress),
      h('div', { class: 'kpis' }, ['total', 'succeeded', 'failed', 'queued', 'dialing', 'attempts'].map((n) => h('span', { class: 'kpi' }, k[n], n)),
        h('span', { class: 'kpi' }, k.rate, 'attempts/s')),
      h('h2', {}, 'Dispositions'), chart),
    h('div', { class: 'card' }, h('h2', {}, 'Calls'), filters, calls, pages));

  function refreshStats() {
    throttled('campaign-stats:' + id, async () => {
      const stats = await api('GET', `/campaigns/${id}/stats`);
      status = stats.status;
      statusEl.textContent = status;
      statusEl.className = 'status ' + status;
      progress.set(stats.progress);
      for (const n of ['total', 'succeeded', 'failed', 'queued', 'dialing', 'attempts']) k[n].textContent = stats[n];
      const rate = attemptsPerSecond(id, stats);
      k.rate.textContent = rate === null ? '—' : rate.toFixed(1);
      clear(chart).append(dispositionChart(stats.dispositions, 420));
      buttons.update();
    });
  }
  refreshStats();
  pages.restart();
  session.view = {
    onEvents(batch) {
      if (batch.calls.has(id) || batch.campaigns.has(id)) {
        refreshStats();
        // The first page follows new calls; a later page stays where the reader is.
        if (pages.page === 0 && batch.calls.has(id)) throttled('campaign-calls:' + id, () => pages.reload());
      }
    },
  };
}
