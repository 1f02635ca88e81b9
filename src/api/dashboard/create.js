// ringmaster dashboard: creating a campaign: its list of targets, a CSV import and its report, its outplan.
'use strict';

import { api, showError } from './api.js';
import { $, clear, h, mount, options } from './dom.js';

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

export function newCampaignView() {
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
  const flow = h('select', { id: 'flow' });
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
      h('label', {}, 'What each answered call hears', flow),
      h('label', { id: 'own-actions' }, 'Actions on each answered call (JSON, see the flows documentation)', actions),
      create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    let acts;
    try {
      acts = flow.value ? null : JSON.parse(actions.value);
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
      const body = { name: name.value, type: 'call', end_handle: 'stop', outplan_id: outplanId, outdial_id: outdial.value };
      if (flow.value) body.flow_id = flow.value;
      else body.actions = acts;
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
  api('GET', '/flows?page_size=100').then((p) => options(flow, p.result || [], (f) => `flow ${f.name || f.id}`, ['', 'its own actions:'])).catch(showError);
  flow.addEventListener('change', () => $('own-actions').classList.toggle('hidden', flow.value !== ''));
  api('GET', '/queues?page_size=100').then((p) => options(queue, p.result || [], (q) => q.name || q.id, ['', 'none'])).catch(showError);
  outplan.addEventListener('change', () => $('new-outplan').classList.toggle('hidden', outplan.value !== ''));
}
