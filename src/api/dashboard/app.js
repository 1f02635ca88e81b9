// ringmaster dashboard: one page over the REST API (/v1.0) and its event stream.
//
// Bounds that keep it usable on a large node: every list is read a page at a time (keyset
// page_token), at most PAGE rows are rendered per table, events are coalesced and handled at
// most every FLUSH_MS, and a campaign's or queue's figures are fetched at most once a second
// (THROTTLE_MS), only for what the page shows, and only when an event says they changed.
//
// app.js        sign-in, sign-out and the views by address (#/campaigns, #/campaign/<id>, ...)
// api.js        the REST API with the token, throttling, the state the modules share
// dom.js        building elements, the view frame, pagers
// stream.js     the event stream, coalesced; trunk health
// campaigns.js  the campaign list and a campaign's page
// create.js     a new campaign, its targets from a CSV file
// board.js      agents, queues and trunks
'use strict';

import { TOKEN_KEY, api, session } from './api.js';
import { agentsView } from './board.js';
import { campaignView, campaignsView } from './campaigns.js';
import { newCampaignView } from './create.js';
import { $, clear } from './dom.js';
import { closeStream, loadHealth, openStream } from './stream.js';

// --- routing and sign-in -----------------------------------------------------------------

function route() {
  if (!session.token) return;
  const hash = location.hash || '#/campaigns';
  const m = hash.match(/^#\/campaign\/([0-9a-fA-F-]{36})$/);
  if (m) campaignView(m[1]);
  else if (hash === '#/new') newCampaignView();
  else if (hash === '#/agents') agentsView();
  else campaignsView();
}

async function signIn(candidate) {
  session.token = candidate;
  try {
    await api('GET', '/campaigns?page_size=1');
  } catch (e) {
    session.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $('signin-error').textContent = String(e);
    return false;
  }
  sessionStorage.setItem(TOKEN_KEY, session.token);
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
  session.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  closeStream();
  if (session.view && session.view.dispose) session.view.dispose();
  session.view = null;
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
