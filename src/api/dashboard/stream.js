// ringmaster dashboard: the event stream, coalesced, and trunk health.
'use strict';

import { session, throttled, withToken } from './api.js';
import { $, clear, h } from './dom.js';

const FLUSH_MS = 250;
let source = null;

// --- the event stream --------------------------------------------------------------------

// Events are gathered by resource and handed to the view at most every FLUSH_MS: a burst
// of a thousand campaigncall events becomes one set of campaign ids.
let pending = null;
function emptyBatch() {
  return { calls: new Set(), campaigns: new Map(), agents: new Map(), handled: new Set(), queues: new Set(), trunks: false };
}

export function openStream() {
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
    if (kind === 'campaigncall') {
      pending.calls.add(d.campaign_id);
      // An attempt that ends with an agent adds to the agent's calls handled.
      if (d.agent_id && d.status === 'done') pending.handled.add(d.agent_id);
    }
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

export function closeStream() {
  if (source) source.close();
  source = null;
  $('live').className = 'live';
}

function flush() {
  const batch = pending;
  pending = null;
  if (!batch) return;
  if (batch.trunks) throttled('health', loadHealth);
  if (session.view && session.view.onEvents) session.view.onEvents(batch);
}

// --- trunk health ------------------------------------------------------------------------

export async function loadHealth() {
  const res = await fetch('/health');
  session.lastHealth = await res.json();
  const el = clear($('trunks'));
  if (!session.lastHealth.store || !session.lastHealth.store.writable) el.append(h('span', { class: 'trunk down' }, 'store cannot write'));
  for (const t of session.lastHealth.trunks || []) {
    el.append(h('span', { class: 'trunk ' + t.state, title: t.reason || t.state }, t.name + ' ' + t.state));
  }
  if (session.view && session.view.onHealth) session.view.onHealth(session.lastHealth);
}
