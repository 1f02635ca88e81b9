// ringmaster dashboard: building elements, the view frame and pagers.
'use strict';

import { session, showError } from './api.js';

export const $ = (id) => document.getElementById(id);


/** An element with attributes (`on*` are listeners) and children (strings are text). */
export function h(tag, attrs, ...children) {
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
export function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return ms + ' ms';
  const sec = Math.round(ms / 1000);
  if (sec < 120) return sec + ' s';
  const min = Math.floor(sec / 60);
  if (min < 120) return min + ' min ' + (sec % 60) + ' s';
  return Math.floor(min / 60) + ' h ' + (min % 60) + ' min';
}

export function mount(title, ...children) {
  if (session.view && session.view.dispose) session.view.dispose();
  session.view = null;
  const el = clear($('view'));
  el.append(h('h1', {}, title), h('p', { id: 'view-error', class: 'error', role: 'alert' }), ...children);
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', location.hash.startsWith(a.getAttribute('href')));
  }
  return el;
}

/** A list read page by page: `load(token)` answers {result, next_page_token}. */
export function pager(load, render) {
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

export function options(select, list, label, first) {
  clear(select);
  if (first) select.append(h('option', { value: first[0] }, first[1]));
  for (const x of list) select.append(h('option', { value: x.id }, label(x)));
}
