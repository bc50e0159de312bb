// mock-server.mjs: a development stand-in for the node's HTTP API (docs/api.md), in memory,
// to try the UI without a node: `node web/dev/mock-server.mjs [port]`, log in as alice/alice
// (or bob/bob). Not shipped; covers the endpoints the UI calls, with a WebSocket pushing
// `post`, `post_deleted`, `channel` and `unread`. Markdown is not rendered (text is escaped).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join, dirname, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'static');
const port = Number(process.argv[2] || 8099);
const TYPES = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript', '.json': 'application/json' };
const F = 'f1';
const users = { alice: { username: 'alice', key: 'k-alice', admin: true }, bob: { username: 'bob', key: 'k-bob', admin: false } };
const sessions = new Map();
const sockets = new Set();
let seq = 0;
const id = () => (++seq).toString(16).padStart(8, '0');
const channels = [
  { id: 'c1', flotilla: F, name: 'town-square', kind: 'public', header: 'Le canal de tous', purpose: 'Discussions générales', archived: false, members: [] },
  { id: 'c2', flotilla: F, name: 'meteo', kind: 'public', header: 'Bulletins', purpose: '', archived: false, members: [] },
  { id: 'c3', flotilla: F, name: 'skippers', kind: 'private', header: '', purpose: '', archived: false, members: ['alice'] },
];
const joined = { alice: new Set(['c1', 'c2', 'c3']), bob: new Set(['c1', 'c2']) };
const readAt = { alice: {}, bob: {} };
const posts = [];
const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const render = (text, me) => `<p>${esc(text).replace(/@(\w+)/g, (m, u) => `<span class="mention${u === me ? ' mention-me' : ''}">${m}</span>`).replace(/:(\w+):/g, (m, c) => (c === 'smile' ? '😄' : m))}</p>`;

function postView(p, me) {
  const replies = posts.filter((r) => r.root_id === p.id).length;
  const reactions = Object.entries(p.reactions).filter(([, u]) => u.size).map(([emoji, u]) => ({ emoji, count: u.size, users: [...u], me: u.has(me) }));
  return { id: p.id, channel: p.channel, author: p.author, author_key: users[p.author].key, text: p.text, html: render(p.text, me), root_id: p.root_id, created_at: p.created_at, edited: p.edited, reply_count: replies, pinned: p.pinned, reactions, files: p.files, mentions_me: p.text.includes(`@${me}`) };
}
function counts(c, me) {
  const after = posts.filter((p) => p.channel === c.id && p.author !== me && p.created_at > (readAt[me][c.id] || 0));
  return { unread: after.length, mentions: after.filter((p) => p.text.includes(`@${me}`) || c.kind === 'dm').length };
}
function channelView(c, me) {
  const last = posts.filter((p) => p.channel === c.id).at(-1);
  return { ...c, member: joined[me].has(c.id), ...counts(c, me), last_post_at: last ? last.created_at : null };
}
function visible(c, me) {
  return c.kind === 'public' || c.members.includes(me);
}
function push(fn) {
  for (const s of sockets) if (!s.destroyed) s.send(fn(s.user));
}
function pushPost(p) {
  push((me) => (visible(channels.find((c) => c.id === p.channel), me) ? { type: 'post', flotilla: F, post: postView(p, me) } : null));
  const c = channels.find((x) => x.id === p.channel);
  push((me) => (visible(c, me) ? { type: 'unread', flotilla: F, channel: c.id, ...counts(c, me) } : null));
}
for (let i = 0; i < 120; i += 1) posts.push({ id: id(), channel: 'c1', author: i % 3 ? 'alice' : 'bob', text: `Message ${i} :smile:`, root_id: null, created_at: Date.now() - (120 - i) * 7 * 60000, edited: false, pinned: false, reactions: {}, files: [] });

function send(res, status, body, headers) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
const fail = (res, status, error, message) => send(res, status, { error, message });
async function bodyOf(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}
function sessionUser(req) {
  const m = /flotilla_session=(\w+)/.exec(req.headers.cookie || '');
  return m ? sessions.get(m[1]) : undefined;
}

async function api(req, res, path, me) {
  const m = req.method;
  const parts = path.split('/').filter(Boolean);
  const json = async () => JSON.parse((await bodyOf(req)).toString() || '{}');
  if (path === '/setup') return send(res, 200, { needed: false });
  if (path === '/emoji') return send(res, 200, [['smile', '😄'], ['+1', '👍'], ['heart', '❤️'], ['sailboat', '⛵'], ['anchor', '⚓'], ['sunny', '☀️']]);
  if (path === '/login' && m === 'POST') {
    const b = await json();
    if (!users[b.username] || b.password !== b.username) return fail(res, 401, 'unauthorized', 'wrong username or password');
    const sid = randomBytes(16).toString('hex');
    sessions.set(sid, b.username);
    return send(res, 200, { ...users[b.username], csrf_token: 'csrf' }, { 'Set-Cookie': `flotilla_session=${sid}; HttpOnly; SameSite=Strict; Path=/` });
  }
  if (!me) return fail(res, 401, 'unauthorized', 'not logged in');
  if (m !== 'GET' && req.headers['x-csrf-token'] !== 'csrf') return fail(res, 403, 'csrf', 'missing CSRF token');
  if (path === '/logout') return send(res, 204);
  if (path === '/me') return send(res, 200, { ...users[me], csrf_token: 'csrf' });
  if (path === '/flotillas') return send(res, 200, [{ id: F, name: 'Flottille des Glénan', member: true, nodes: 3, admin: me === 'alice' }]);
  if (parts[0] !== 'flotillas' || parts[1] !== F) return fail(res, 404, 'not_found', 'no such thing');
  const rest = parts.slice(2);
  if (rest[0] === 'members') return send(res, 200, Object.values(users).map((u) => ({ ...u, display_name: u.username === 'alice' ? 'Alice Le Goff' : 'Bob Kerouac', node: u.username === 'alice' ? 'n1' : 'n2' })));
  if (rest[0] === 'nodes') return send(res, 200, [{ key: 'n1', name: 'Pen Duick', me: true, connected: true, last_seen_ms: Date.now() }, { key: 'n2', name: 'Belle-Île', me: false, connected: true, last_seen_ms: Date.now() }, { key: 'n3', name: 'Marie-Galante', me: false, connected: false, last_seen_ms: Date.now() - 12 * 60000 }]);
  if (rest[0] === 'files' && m === 'POST') {
    const bytes = await bodyOf(req);
    if (bytes.length > 1000000) return fail(res, 413, 'too_large', 'files are limited to 1 MB in this flotilla');
    return send(res, 201, { id: id(), name: new URL(req.url, 'http://x').searchParams.get('name'), size: bytes.length, mime: req.headers['content-type'] });
  }
  if (rest[0] === 'dms' && m === 'POST') {
    const b = await json();
    const members = [me, ...b.usernames].sort();
    let c = channels.find((x) => x.kind === 'dm' && x.members.join() === members.join());
    if (!c) {
      c = { id: id(), flotilla: F, name: '@dm', kind: 'dm', header: '', purpose: '', archived: false, members };
      channels.push(c);
      members.forEach((u) => joined[u].add(c.id));
    }
    return send(res, 201, channelView(c, me));
  }
  if (rest[0] === 'channels' && rest.length === 1) {
    if (m === 'GET') return send(res, 200, channels.filter((c) => visible(c, me)).map((c) => channelView(c, me)));
    const b = await json();
    const c = { id: id(), flotilla: F, name: b.name, kind: b.private ? 'private' : 'public', header: b.header || '', purpose: b.purpose || '', archived: false, members: b.private ? [me] : [] };
    channels.push(c);
    joined[me].add(c.id);
    push((u) => (visible(c, u) ? { type: 'channel', flotilla: F, channel: channelView(c, u) } : null));
    return send(res, 201, channelView(c, me));
  }
  if (rest[0] === 'channels') {
    const c = channels.find((x) => x.id === rest[1]);
    if (!c) return fail(res, 404, 'not_found', 'no such channel');
    const action = rest[2];
    if (!action) {
      if (m === 'PATCH') Object.assign(c, await json());
      return send(res, 200, channelView(c, me));
    }
    if (action === 'read') {
      readAt[me][c.id] = Date.now();
      push((u) => (u === me ? { type: 'unread', flotilla: F, channel: c.id, unread: 0, mentions: 0 } : null));
      return send(res, 204);
    }
    if (action === 'join') {
      joined[me].add(c.id);
      return send(res, 200, channelView(c, me));
    }
    if (action === 'leave') {
      joined[me].delete(c.id);
      return send(res, 204);
    }
    if (action === 'archive') {
      c.archived = (await json()).archived;
      return send(res, 200, channelView(c, me));
    }
    if (action === 'pins') return send(res, 200, posts.filter((p) => p.channel === c.id && p.pinned).map((p) => postView(p, me)));
    if (action === 'posts' && m === 'GET') {
      const q = new URL(req.url, 'http://x').searchParams;
      const roots = posts.filter((p) => p.channel === c.id && !p.root_id);
      const end = q.get('before') ? roots.findIndex((p) => p.id === q.get('before')) : roots.length;
      const limit = Number(q.get('limit') || 50);
      const page = roots.slice(Math.max(0, end - limit), end);
      return send(res, 200, { posts: page.map((p) => postView(p, me)), next: end - limit > 0 ? page[0].id : null });
    }
    if (action === 'posts' && m === 'POST') {
      const b = await json();
      if (!b.text && !(b.file_ids || []).length) return fail(res, 422, 'invalid', 'empty post');
      const p = { id: id(), channel: c.id, author: me, text: b.text, root_id: b.root_id || null, created_at: Date.now(), edited: false, pinned: false, reactions: {}, files: (b.file_ids || []).map((f) => ({ id: f, name: `${f}.bin`, size: 10, mime: 'application/octet-stream' })) };
      posts.push(p);
      pushPost(p);
      return send(res, 201, postView(p, me));
    }
  }
  if (rest[0] === 'posts') {
    const p = posts.find((x) => x.id === rest[1]);
    if (!p) return fail(res, 404, 'not_found', 'no such post');
    if (rest[2] === 'thread') return send(res, 200, { root: postView(p, me), replies: posts.filter((r) => r.root_id === p.id).map((r) => postView(r, me)) });
    if (rest[2] === 'reactions') {
      const e = decodeURIComponent(rest[3]);
      p.reactions[e] = p.reactions[e] || new Set();
      if (m === 'PUT') p.reactions[e].add(me);
      else p.reactions[e].delete(me);
    } else if (rest[2] === 'pin') p.pinned = m === 'PUT';
    else if (m === 'PUT') Object.assign(p, { text: (await json()).text, edited: true });
    else if (m === 'DELETE') {
      posts.splice(posts.indexOf(p), 1);
      push(() => ({ type: 'post_deleted', flotilla: F, channel: p.channel, post_id: p.id, root_id: p.root_id }));
      return send(res, 204);
    }
    if (m !== 'GET') pushPost(p);
    return send(res, 200, postView(p, me));
  }
  return fail(res, 404, 'not_found', 'no such endpoint');
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname.startsWith('/api/v1/')) return await api(req, res, url.pathname.slice(7), sessionUser(req));
    const file = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
    const data = await readFile(join(root, file));
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
    return res.end(data);
  } catch (err) {
    return fail(res, err.code === 'ENOENT' ? 404 : 500, 'not_found', String(err.message));
  }
});

server.on('upgrade', (req, socket) => {
  const user = sessionUser(req);
  if (!user) return socket.destroy();
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.user = user;
  socket.send = (msg) => {
    if (!msg) return;
    const data = Buffer.from(JSON.stringify(msg));
    const head = data.length < 126 ? Buffer.from([0x81, data.length]) : Buffer.from([0x81, 126, data.length >> 8, data.length & 255]);
    socket.write(Buffer.concat([head, data]));
  };
  socket.on('data', () => {});
  socket.on('error', () => sockets.delete(socket));
  socket.on('close', () => sockets.delete(socket));
  sockets.add(socket);
  socket.send({ type: 'hello', username: user });
});

server.listen(port, '127.0.0.1', () => console.log(`mock node on http://127.0.0.1:${port}/ (alice/alice, bob/bob)`));
