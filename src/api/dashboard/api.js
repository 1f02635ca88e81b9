// ringmaster dashboard: the REST API, the token and the shared state.
'use strict';

/** What the page holds: the token, the view shown ({ onEvents(batch), onHealth(h), dispose() }), the last /health. */
export const session = { token: null, view: null, lastHealth: null };

export const TOKEN_KEY = 'ringmaster.token';
/** Rows of a table page. */
export const PAGE = 50;
/** A campaign's or queue's figures are fetched at most this often. */
export const THROTTLE_MS = 1000;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
  toString() {
    return this.status ? this.status + ': ' + this.message : this.message;
  }
}

/** One request to /v1.0; the parsed JSON answer, or an ApiError with the API's message. */
export async function api(method, path, body, contentType) {
  const headers = { Authorization: 'Bearer ' + session.token };
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
export function withToken(path) {
  return '/v1.0' + path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(session.token);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? '?' + text : '';
}

/** Runs `fn` for `key` at most once per THROTTLE_MS; calls in between fold into one after. */
const throttles = new Map();
export function throttled(key, fn) {
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

export function showError(e) {
  const el = document.getElementById('view-error');
  if (el) el.textContent = String(e);
}
