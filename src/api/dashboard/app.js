// ringmaster dashboard: one page over the REST API (/v1.0) and its event stream.
//
// Bounds that keep it usable on a large node: every list is read a page at a time (keyset
// page_token), at most PAGE rows are rendered per table, events are coalesced and handled at
// most every FLUSH_MS, and a campaign's or queue's figures are fetched at most once a second
// (THROTTLE_MS), only for what the page shows, and only when an event says they changed.
'use strict';

(() => {
  const TOKEN_KEY = 'ringmaster.token';
  const PAGE = 50;
  const FLUSH_MS = 250;
  const THROTTLE_MS = 1000;
  const RATE_WINDOW_MS = 10000;
  const DISPOSITIONS = ['answered', 'busy', 'no_answer', 'rejected', 'invalid_number',
    'unauthorized', 'failed', 'cancelled', 'unknown', 'dnc', 'opted_out', 'abandoned', 'machine'];

  let token = null;
  let source = null;
  let view = null; // { onEvents(batch), dispose() }
  const $ = (id) => document.getElementById(id);

  // --- DOM -------------------------------------------------------------------------------

  /** An element with attributes (`on*` are listeners) and children (strings are text). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (v === true) el.setAttribute(k, '');
      else if (v !== false && v !== null && v !== undefined) el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  /** An SVG element. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children.flat()) el.append(c instanceof Node ? c : String(c));
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return ms + ' ms';
    const sec = Math.round(ms / 1000);
    if (sec < 120) return sec + ' s';
    const min = Math.floor(sec / 60);
    if (min < 120) return min + ' min ' + (sec % 60) + ' s';
    return Math.floor(min / 60) + ' h ' + (min % 60) + ' min';
  }

  // --- API -------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
    toString() {
      return this.status ? this.status + ': ' + this.message : this.message;
    }
  }

  /** One request to /v1.0; the parsed JSON answer, or an ApiError with the API's message. */
  async function api(method, path, body, contentType) {
    const headers = { Authorization: 'Bearer ' + token };
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = contentType || 'application/json';
      init.body = contentType ? body : JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch('/v1.0' + path, init);
    } catch (e) {
      throw new ApiError(0, 'the server did not answer (' + e.message + ')');
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!res.ok) throw new ApiError(res.status, (data && data.message) || text || res.statusText);
    return data;
  }

  /** A /v1.0 URL carrying the token, for what cannot send a header (EventSource, a link). */
  function withToken(path) {
    return '/v1.0' + path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
    const text = q.toString();
    return text ? '?' + text : '';
  }

  /** Runs `fn` for `key` at most once per THROTTLE_MS; calls in between fold into one after. */
  const throttles = new Map();
  function throttled(key, fn) {
    let t = throttles.get(key);
    if (!t) {
      t = { last: 0, timer: null };
      throttles.set(key, t);
    }
    if (t.timer) return;
    const wait = Math.max(0, t.last + THROTTLE_MS - Date.now());
    t.timer = setTimeout(async () => {
      t.last = Date.now();
      try {
        await fn();
      } catch (e) {
        showError(e);
      } finally {
        t.timer = null;
      }
    }, wait);
  }

  function showError(e) {
    const el = $('view-error');
    if (el) el.textContent = String(e);
  }

  // --- the event stream --------------------------------------------------------------------

  // Events are gathered by resource and handed to the view at most every FLUSH_MS: a burst
  // of a thousand campaigncall events becomes one set of campaign ids.
  let pending = null;
  function emptyBatch() {
    return { calls: new Set(), campaigns: new Map(), agents: new Map(), queues: new Set(), trunks: false };
  }

  function openStream() {
    closeStream();
    source = new EventSource(withToken('/events?resource=campaign,campaigncall,agent,queue,trunk'));
    source.onopen = () => { $('live').className = 'live on'; };
    source.onerror = () => { $('live').className = 'live off'; };
    const take = (kind) => (e) => {
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch (_) {
        return;
      }
      if (!pending) {
        pending = emptyBatch();
        setTimeout(flush, FLUSH_MS);
      }
      const d = ev.data || {};
      if (kind === 'campaigncall') pending.calls.add(d.campaign_id);
      else if (kind === 'campaign') pending.campaigns.set(ev.resource_id, ev);
      else if (kind === 'agent') pending.agents.set(ev.resource_id, d);
      else if (kind === 'queue') pending.queues.add(ev.resource_id);
      else if (kind === 'trunk') pending.trunks = true;
    };
    for (const type of ['campaign_created', 'campaign_updated', 'campaign_deleted']) source.addEventListener(type, take('campaign'));
    for (const type of ['campaigncall_created', 'campaigncall_updated']) source.addEventListener(type, take('campaigncall'));
    source.addEventListener('agent_updated', take('agent'));
    source.addEventListener('queue_updated', take('queue'));
    source.addEventListener('trunk_updated', take('trunk'));
  }

  function closeStream() {
    if (source) source.close();
    source = null;
    $('live').className = 'live';
  }

  function flush() {
    const batch = pending;
    pending = null;
    if (!batch) return;
    if (batch.trunks) throttled('health', loadHealth);
    if (view && view.onEvents) view.onEvents(batch);
  }

  // --- trunk health ------------------------------------------------------------------------

  let lastHealth = null;
  async function loadHealth() {
    const res = await fetch('/health');
    lastHealth = await res.json();
    const el = clear($('trunks'));
    if (!lastHealth.store || !lastHealth.store.writable) el.append(h('span', { class: 'trunk down' }, 'store cannot write'));
    for (const t of lastHealth.trunks || []) {
      el.append(h('span', { class: 'trunk ' + t.state, title: t.reason || t.state }, t.name + ' ' + t.state));
    }
    if (view && view.onHealth) view.onHealth(lastHealth);
  }

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

  // --- views -------------------------------------------------------------------------------

  function mount(title, ...children) {
    if (view && view.dispose) view.dispose();
    view = null;
    const el = clear($('view'));
    el.append(h('h1', {}, title), h('p', { id: 'view-error', class: 'error', role: 'alert' }), ...children);
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('active', location.hash.startsWith(a.getAttribute('href')));
    }
    return el;
  }

  /** A list read page by page: `load(token)` answers {result, next_page_token}. */
  function pager(load, render) {
    const tokens = [''];
    const first = h('button', { type: 'button', class: 'secondary first' }, 'First page');
    const next = h('button', { type: 'button', class: 'secondary next' }, 'Next page');
    const where = h('span', { class: 'note' });
    const el = h('div', { class: 'pager' }, first, next, where);
    let nextToken = '';
    let latest = 0;
    async function show(i) {
      // Only the last page asked for is shown: a refresh of page 1 answered after the reader
      // moved on to page 2 is dropped.
      const mine = ++latest;
      el.page = i;
      try {
        const page = await load(tokens[i]);
        if (mine !== latest) return;
        tokens.length = i + 1;
        nextToken = page.next_page_token || '';
        if (nextToken) tokens.push(nextToken);
        render(page.result || [], i);
        first.disabled = i === 0;
        next.disabled = !nextToken;
        where.textContent = 'page ' + (i + 1);
      } catch (e) {
        if (mine === latest) showError(e);
      }
    }
    first.addEventListener('click', () => show(0));
    next.addEventListener('click', () => show(tokens.length - 1));
    el.reload = () => show(el.page || 0);
    el.restart = () => show(0);
    el.page = 0;
    return el;
  }

  function campaignsView() {
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
    view = {
      onEvents(batch) {
        for (const id of batch.calls) if (rows.has(id)) refresh(id);
        for (const [id, ev] of batch.campaigns) {
          if (rows.has(id)) refresh(id);
          else if (ev.type === 'campaign_created' && pages.page === 0) throttled('campaign-list', () => pages.reload());
        }
      },
    };
  }

  async function campaignView(id) {
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
    view = {
      onEvents(batch) {
        if (batch.calls.has(id) || batch.campaigns.has(id)) {
          refreshStats();
          // The first page follows new calls; a later page stays where the reader is.
          if (pages.page === 0 && batch.calls.has(id)) throttled('campaign-calls:' + id, () => pages.reload());
        }
      },
    };
  }

  function reportView(report) {
    const invalid = report.skipped_invalid || [];
    const dup = report.skipped_duplicate || [];
    const rowsOf = (list) => list.slice(0, 100).map((r) => h('tr', {}, h('td', { class: 'num' }, r.row), h('td', {}, r.value), h('td', {}, r.reason || '')));
    return h('div', { id: 'import-report', class: 'report' },
      h('p', {}, h('b', { id: 'import-created' }, report.created), ' created, ',
        h('b', { id: 'import-invalid' }, report.skipped_invalid_total), ' rejected, ',
        h('b', { id: 'import-duplicate' }, report.skipped_duplicate_total), ' duplicates'),
      invalid.length ? h('table', { id: 'rejected' }, h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'Row'), h('th', {}, 'Value'), h('th', {}, 'Reason'))), h('tbody', {}, rowsOf(invalid))) : null,
      dup.length ? h('table', { id: 'duplicates' }, h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'Row'), h('th', {}, 'Value'), h('th', {}, ''))), h('tbody', {}, rowsOf(dup))) : null,
      report.skipped_invalid_total > invalid.length || invalid.length > 100 ? h('p', { class: 'note' }, 'Only the first rejected rows are listed.') : null);
  }

  function options(select, list, label, first) {
    clear(select);
    if (first) select.append(h('option', { value: first[0] }, first[1]));
    for (const x of list) select.append(h('option', { value: x.id }, label(x)));
  }

  function newCampaignView() {
    const el = mount('New campaign');
    // 1. The target list.
    const outdial = h('select', { id: 'outdial' });
    const outdialName = h('input', { id: 'outdial-name', placeholder: 'e.g. Q1 customers' });
    const createOutdial = h('button', { type: 'button', id: 'create-outdial' }, 'Create list');
    const loadOutdials = async (select) => {
      const page = await api('GET', '/outdials?page_size=100');
      options(outdial, page.result || [], (o) => `${o.name || '(no name)'} — ${o.id}`, ['', 'choose a list…']);
      if (select) outdial.value = select;
    };
    createOutdial.addEventListener('click', async () => {
      showError('');
      try {
        const o = await api('POST', '/outdials', { name: outdialName.value });
        await loadOutdials(o.id);
      } catch (e) {
        showError(e);
      }
    });
    // 2. Targets from a CSV file.
    const file = h('input', { id: 'csv-file', type: 'file', accept: '.csv,text/csv' });
    const importButton = h('button', { type: 'button', id: 'import' }, 'Import');
    const report = h('div');
    importButton.addEventListener('click', async () => {
      showError('');
      clear(report);
      if (!outdial.value) return showError('Choose or create a list first.');
      if (!file.files.length) return showError('Choose a CSV file.');
      importButton.disabled = true;
      report.append(h('p', { class: 'note' }, 'Importing…'));
      try {
        const r = await api('POST', `/outdials/${outdial.value}/targets`, file.files[0], 'text/csv');
        clear(report).append(reportView(r));
      } catch (e) {
        clear(report);
        showError(e);
      } finally {
        importButton.disabled = false;
      }
    });
    // 3. How to dial.
    const outplan = h('select', { id: 'outplan' });
    const callerId = h('input', { id: 'caller-id', value: '+15551230000' });
    const dialTimeout = h('input', { id: 'dial-timeout', type: 'number', min: 1, max: 600, value: 30 });
    const tries = h('input', { id: 'tries', type: 'number', min: 1, max: 100, value: 1 });
    const tryInterval = h('input', { id: 'try-interval', type: 'number', min: 0, value: 60 });
    // 4. The campaign.
    const name = h('input', { id: 'campaign-name', required: true });
    const queue = h('select', { id: 'queue' });
    const actions = h('textarea', { id: 'actions', rows: 6, cols: 60 });
    actions.value = JSON.stringify([{ type: 'talk', option: { text: 'Hello, this is a reminder of your appointment. Goodbye.' } }, { type: 'hangup' }], null, 1);
    const create = h('button', { type: 'submit', id: 'create-campaign' }, 'Create campaign');
    const form = h('form', { id: 'campaign-form' },
      h('div', { class: 'card' }, h('h2', {}, '1. Targets'),
        h('div', { class: 'row' }, h('label', {}, 'List', outdial), h('label', {}, 'or a new list named', outdialName), h('span', {}, createOutdial)),
        h('div', { class: 'row' }, h('label', {}, 'CSV file (a destination or phone_number column, name, other columns kept as data)', file), h('span', {}, importButton)),
        report),
      h('div', { class: 'card' }, h('h2', {}, '2. Dialing plan'),
        h('div', { class: 'row' }, h('label', {}, 'Outplan', outplan)),
        h('div', { class: 'row', id: 'new-outplan' }, h('label', {}, 'Caller id', callerId), h('label', {}, 'Ring for (s)', dialTimeout),
          h('label', {}, 'Tries', tries), h('label', {}, 'Between tries (s)', tryInterval))),
      h('div', { class: 'card' }, h('h2', {}, '3. Campaign'),
        h('div', { class: 'row' }, h('label', {}, 'Name', name), h('label', {}, 'Queue (answered calls wait for an agent)', queue)),
        h('label', {}, 'Actions on each answered call (JSON, see the flows documentation)', actions),
        create));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError('');
      let acts;
      try {
        acts = JSON.parse(actions.value);
      } catch (err) {
        return showError('actions: ' + err.message);
      }
      if (!outdial.value) return showError('Choose or create a list of targets first.');
      create.disabled = true;
      try {
        let outplanId = outplan.value;
        if (!outplanId) {
          const p = await api('POST', '/outplans', {
            name: name.value + ' plan', source: { type: 'tel', target: callerId.value },
            dial_timeout: Number(dialTimeout.value) * 1000, max_try_count_0: Number(tries.value),
            try_interval: Number(tryInterval.value) * 1000,
          });
          outplanId = p.id;
          outplan.value = '';
        }
        const body = { name: name.value, type: 'call', end_handle: 'stop', actions: acts, outplan_id: outplanId, outdial_id: outdial.value };
        if (queue.value) body.queue_id = queue.value;
        const c = await api('POST', '/campaigns', body);
        location.hash = '#/campaign/' + c.id;
      } catch (err) {
        showError(err);
      } finally {
        create.disabled = false;
      }
    });
    el.append(form);
    loadOutdials().catch(showError);
    api('GET', '/outplans?page_size=100').then((p) => options(outplan, p.result || [], (o) => `${o.name || '(no name)'} — ${o.id}`, ['', 'a new outplan:'])).catch(showError);
    api('GET', '/queues?page_size=100').then((p) => options(queue, p.result || [], (q) => q.name || q.id, ['', 'none'])).catch(showError);
    outplan.addEventListener('change', () => $('new-outplan').classList.toggle('hidden', outplan.value !== ''));
  }

  function agentsView() {
    const since = new Map(); // agent id → when the page saw its state change
    const pageOpened = Date.now();
    const rows = new Map();
    const agentBody = h('tbody');
    const agents = h('table', { id: 'agents' },
      h('thead', {}, h('tr', {}, ['Agent', 'Name', 'State', 'Time in state', 'Registered contacts'].map((t) => h('th', {}, t)))), agentBody);
    const agentPages = pager((t) => api('GET', '/agents' + query({ page_size: PAGE, page_token: t })), (list) => {
      clear(agentBody);
      rows.clear();
      for (const a of list) {
        const r = { state: h('td', { class: 'state' }, a.status), time: h('td', { class: 'num' }), contacts: h('td', { class: 'num' }, (a.contacts || []).length) };
        rows.set(a.id, r);
        agentBody.append(h('tr', { 'data-id': a.id }, h('td', {}, a.username), h('td', {}, a.name), r.state, r.time, r.contacts));
      }
      if (!list.length) agentBody.append(h('tr', {}, h('td', { colspan: 5, class: 'note' }, 'No agents.')));
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
    if (lastHealth) showTrunks(lastHealth);
    throttled('health', loadHealth);
    view = {
      onEvents(batch) {
        for (const [id, a] of batch.agents) {
          const r = rows.get(id);
          if (!r) continue;
          if (a.status && r.state.textContent !== a.status) since.set(id, Date.now());
          if (a.status) r.state.textContent = a.status;
          if (a.contacts) r.contacts.textContent = a.contacts.length;
        }
        tick();
        for (const id of batch.queues) if (queueRows.has(id)) refreshQueue(id);
      },
      onHealth: showTrunks,
      dispose() {
        clearInterval(ticker);
      },
    };
  }

  // --- routing and sign-in -----------------------------------------------------------------

  function route() {
    if (!token) return;
    const hash = location.hash || '#/campaigns';
    const m = hash.match(/^#\/campaign\/([0-9a-fA-F-]{36})$/);
    if (m) campaignView(m[1]);
    else if (hash === '#/new') newCampaignView();
    else if (hash === '#/agents') agentsView();
    else campaignsView();
  }

  async function signIn(candidate) {
    token = candidate;
    try {
      await api('GET', '/campaigns?page_size=1');
    } catch (e) {
      token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      $('signin-error').textContent = String(e);
      return false;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('signin-error').textContent = '';
    $('signin').hidden = true;
    $('view').hidden = false;
    $('nav').hidden = false;
    $('signout').hidden = false;
    openStream();
    loadHealth().catch(() => {});
    route();
    return true;
  }

  function signOut() {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    closeStream();
    if (view && view.dispose) view.dispose();
    view = null;
    clear($('view'));
    $('view').hidden = true;
    $('nav').hidden = true;
    $('signout').hidden = true;
    $('signin').hidden = false;
  }

  function start() {
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      signIn($('token').value.trim());
    });
    $('signout').addEventListener('click', signOut);
    window.addEventListener('hashchange', route);
    // A link may carry the token in its fragment (never sent to the server): take it and
    // drop it from the address bar.
    const m = location.hash.match(/^#token=(.+)$/);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + '#/campaigns');
    }
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
  }

  start();
})();
