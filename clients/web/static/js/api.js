// The web server's HTTP API (docs/web-console.md): JSON in, JSON out. Every failure is
// thrown as an ApiError with the contract's {code, message, field}.
import { reasonFor } from './break_glass.js';
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, field = '', body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || '';
    this.body = body;
  }
}

let onUnauthorized = null;

/** Called once on a 401 from any call but /api/me and /api/login (the session ended). */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

async function request(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'UNAVAILABLE', t('error.network'));
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `HTTP_${res.status}`, e.message || res.statusText, e.field, data);
    if (res.status === 401 && onUnauthorized && !path.startsWith('/api/me') && !path.startsWith('/api/login')) {
      onUnauthorized(err);
    }
    throw err;
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);

/** POST /api/rpc/{method}: the request and the answer as proto JSON. A call naming an
 * incident opened with break-glass carries its reason (X-AMK-Break-Glass), as does one
 * given `options.breakGlass` (even empty: the server then says the reason is missing);
 * the gateway logs every such call with it. */
export function rpc(method, body = {}, options = {}) {
  const reason = 'breakGlass' in options ? options.breakGlass : reasonFor(method, body);
  const headers = reason === undefined ? {} : { 'X-AMK-Break-Glass': encodeURIComponent(reason) };
  return request('POST', `/api/rpc/${method}`, body, headers);
}

/** `rpc`, asked again with a reason when the server says one is required (the error's
 * field is `reason`: a release with a patient aboard, a diversion to a less urgent
 * incident). `ask()` gets it from the person; undefined when they gave none (nothing
 * was done). A request that already carried a reason is not asked again. */
export async function rpcWithReason(method, body, ask) {
  try {
    return await rpc(method, body);
  } catch (e) {
    if (e.field !== 'reason' || body.reason) throw e;
    const reason = ask();
    if (!reason.trim()) return undefined;
    return rpc(method, { ...body, reason });
  }
}
