// ws.js: the one WebSocket to the node (`/api/v1/ws`): JSON messages to a handler, a ping to
// keep it alive, and reconnection with exponential backoff (the caller reloads its state
// on reconnect, as it does on `resync`).

/** First reconnection delay. */
export const WS_BASE_DELAY_MS = 500;
/** Longest reconnection delay. */
export const WS_MAX_DELAY_MS = 30000;
/** Interval between pings while connected. */
export const WS_PING_INTERVAL_MS = 25000;

/** The delay before reconnection attempt `attempt` (0-based), jittered by `random` in [0,1). */
export function backoffDelay(attempt, random) {
  const ceiling = Math.min(WS_MAX_DELAY_MS, WS_BASE_DELAY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** The WebSocket URL for this page. */
export function socketUrl(loc) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api/v1/ws`;
}

/**
 * Connect and stay connected. `handlers` = {message(msg), open(isReconnect), status(connected)}.
 * Returns {close()} to stop for good (logout).
 */
export function connectSocket(handlers) {
  let socket = null;
  let attempt = 0;
  let opened = false;
  let stopped = false;
  let pingTimer = null;
  let retryTimer = null;

  function start() {
    socket = new WebSocket(socketUrl(location));
    socket.addEventListener('open', () => {
      attempt = 0;
      handlers.status(true);
      handlers.open(opened);
      opened = true;
      pingTimer = setInterval(() => socket.send(JSON.stringify({ type: 'ping' })), WS_PING_INTERVAL_MS);
    });
    socket.addEventListener('message', (event) => {
      let msg = null;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg && typeof msg.type === 'string') handlers.message(msg);
    });
    socket.addEventListener('close', () => {
      clearInterval(pingTimer);
      handlers.status(false);
      if (stopped) return;
      retryTimer = setTimeout(start, backoffDelay(attempt, Math.random()));
      attempt += 1;
    });
  }

  start();
  return {
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      if (socket) socket.close();
    },
  };
}
