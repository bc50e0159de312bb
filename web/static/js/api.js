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
  /**
   * Upload a File/Blob for a post in a channel: `POST /flotillas/{f}/files?channel=&name=`, raw
   * bytes. `onProgress(fraction)` (0–1) follows the bytes sent, from XMLHttpRequest's upload
   * progress events (fetch has none); without XMLHttpRequest the upload goes through fetch.
   */
  upload: (flotilla, channel, file, onProgress) =>
    uploadFile(`/flotillas/${seg(flotilla)}/files?channel=${seg(channel)}&name=${seg(file.name || 'file')}`, file, onProgress),
};

/** Fraction 0–1 of an upload from a progress event's `loaded`/`total` (0 while unknown). */
export function uploadFraction(loaded, total) {
  if (!(total > 0) || !(loaded >= 0)) return 0;
  return Math.min(1, loaded / total);
}

/**
 * POST `body` to `path` with upload progress; answers the parsed JSON, or throws ApiError as
 * `request` does (a CSRF refusal is retried once with a fresh token). `Xhr` is the
 * XMLHttpRequest constructor (injectable for tests).
 */
export async function uploadFile(path, body, onProgress = () => {}, Xhr = globalThis.XMLHttpRequest) {
  const type = body.type || 'application/octet-stream';
  if (typeof Xhr !== 'function') {
    const out = await request('POST', path, body, type);
    onProgress(1);
    return out;
  }
  const once = () =>
    new Promise((resolve) => {
      const xhr = new Xhr();
      xhr.open('POST', API_ROOT + path);
      xhr.withCredentials = true;
      xhr.setRequestHeader('Content-Type', type);
      if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
      xhr.upload.onprogress = (e) => onProgress(uploadFraction(e.loaded, e.lengthComputable === false ? 0 : e.total));
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText || '' });
      xhr.onerror = () => resolve({ status: 0, text: '' });
      xhr.onabort = xhr.onerror;
      xhr.send(body);
    });
  const parse = (text) => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  const error = ({ status, text }) => {
    if (status === 0) return new ApiError(0, 'network', 'the upload was cut');
    const b = parse(text);
    const code = b && typeof b.error === 'string' ? b.error : `http_${status}`;
    const message = b && typeof b.message === 'string' ? b.message : `HTTP ${status}`;
    return new ApiError(status, code, message);
  };
  let res = await once();
  if (res.status === 403 && error(res).code === 'csrf' && (await refreshCsrf())) res = await once();
  if (res.status < 200 || res.status >= 300) {
    const err = error(res);
    if (res.status === 401) unauthorizedHandler(err);
    throw err;
  }
  onProgress(1);
  return parse(res.text);
}

/** Path of a flotilla's sub-resource: fpath(f, 'channels', c, 'posts'). */
export function fpath(flotilla, ...parts) {
  return ['/flotillas', flotilla, ...parts].map((p, i) => (i === 0 ? p : seg(p))).join('/');
}

/** URL of an attached file's bytes. */
export function fileUrl(flotilla, fileId) {
  return API_ROOT + fpath(flotilla, 'files', fileId);
}
