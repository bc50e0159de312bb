// api.js: the fetch wrapper for the node's JSON API (docs/api.md): JSON in and out, the
// X-CSRF-Token header on every non-GET request, errors parsed into ApiError {status, code, message}.

/** Prefix of every API path. */
export const API_ROOT = '/api/v1';

/** An error answered by the node (or a network failure: status 0, code "network"). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let csrfToken = null;
let unauthorizedHandler = () => {};

/** Remember the CSRF token from `GET /me` (null after logout). */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called on a 401 from any request but login/setup (the session expired). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** Parse a failed response into an ApiError, whatever its body. */
export async function errorFromResponse(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const code = body && typeof body.error === 'string' ? body.error : `http_${res.status}`;
  const message = body && typeof body.message === 'string' ? body.message : res.statusText || `HTTP ${res.status}`;
  return new ApiError(res.status, code, message);
}

async function send(method, path, body, contentType) {
  const headers = {};
  if (contentType) headers['Content-Type'] = contentType;
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  try {
    return await fetch(API_ROOT + path, { method, headers, body, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'network', String(err && err.message ? err.message : err));
  }
}

async function refreshCsrf() {
  const res = await send('GET', '/me');
  if (!res.ok) return false;
  const me = await res.json();
  setCsrfToken(me.csrf_token);
  return true;
}

/** One request; `body` is JSON unless `contentType` is given (then it is sent raw). */
export async function request(method, path, body, contentType) {
  const raw = contentType !== undefined;
  const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
  const type = body === undefined ? undefined : raw ? contentType : 'application/json';
  let res = await send(method, path, payload, type);
  if (res.status === 403 && method !== 'GET') {
    const err = await errorFromResponse(res.clone());
    if (err.code === 'csrf' && (await refreshCsrf())) res = await send(method, path, payload, type);
  }
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (res.status === 401 && !['/login', '/setup', '/me/password'].includes(path)) unauthorizedHandler(err);
    throw err;
  }
  if (res.status === 204) return null;
  const kind = res.headers.get('Content-Type') || '';
  return kind.includes('json') ? res.json() : null;
}

/** Encode one path segment. */
export const seg = (value) => encodeURIComponent(String(value));

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  put: (path, body) => request('PUT', path, body),
  patch: (path, body) => request('PATCH', path, body),
  del: (path) => request('DELETE', path),
  /** Upload a File/Blob for a post in a channel: `POST /flotillas/{f}/files?channel=&name=`, raw bytes. */
  upload: (flotilla, channel, file) =>
    request(
      'POST',
      `/flotillas/${seg(flotilla)}/files?channel=${seg(channel)}&name=${seg(file.name || 'file')}`,
      file,
      file.type || 'application/octet-stream',
    ),
};

/** Path of a flotilla's sub-resource: fpath(f, 'channels', c, 'posts'). */
export function fpath(flotilla, ...parts) {
  return ['/flotillas', flotilla, ...parts].map((p, i) => (i === 0 ? p : seg(p))).join('/');
}

/** URL of an attached file's bytes. */
export function fileUrl(flotilla, fileId) {
  return API_ROOT + fpath(flotilla, 'files', fileId);
}
