// One WebSocket per tab, kept alive the way docs/protocol.md asks: a fresh ticket per attempt,
// backoff 1 s doubling to 30 s with jitter, a ping every 4 min (the idle cut-off is 10 min) and a
// planned reconnect at 110 min (the hard cut-off is 2 h).
const PING_MS = 4 * 60e3;
const LIFETIME_MS = 110 * 60e3;
const PONG_WAIT_MS = 20e3;
// 1012 (Service Restart) is what the local stack closes with when it stops; it is usually serving
// again within seconds, so the socket tries every 2 s for a minute before the usual backoff.
// API Gateway never sends 1012.
const SERVICE_RESTART = 1012;
const RESTART_RETRY_MS = 2e3;
const RESTART_TRIES = 30;

// The wait before try `n` (from 0): 1 s doubling to 30 s, ±20% so clients don't retry in step.
const backoff = (n) => Math.min(30e3, 1e3 * 2 ** n) * (0.8 + Math.random() * 0.4);

export function createSocket({ url, ticket, onFrame, onState }) {
  let ws = null;
  let attempt = 0;
  let restartTries = 0;
  let stopped = true;
  let opening = false;
  let retryTimer, pingTimer, lifeTimer, deadTimer;
  const retries = new Map();
  const tries = new Map();

  function clear() {
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    clearTimeout(lifeTimer);
    clearTimeout(deadTimer);
  }

  async function open() {
    clear();
    if (stopped || ws || opening) return;
    opening = true;
    let s;
    try {
      const t = await ticket();
      if (stopped || ws) return;
      const base = url();
      s = ws = new WebSocket(base + (base.includes('?') ? '&' : '?') + 'ticket=' + encodeURIComponent(t));
    } catch (e) {
      return later();
    } finally {
      opening = false;
    }
    s.onopen = () => {
      send({ action: 'hello' });
      pingTimer = setInterval(ping, PING_MS);
      lifeTimer = setTimeout(() => drop(true), LIFETIME_MS);
    };
    s.onmessage = (e) => {
      if (s !== ws) return;
      clearTimeout(deadTimer);
      let f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (!f || typeof f !== 'object') return;
      if (f.type === 'welcome') {
        attempt = 0;
        restartTries = 0;
        onState('open');
      }
      onFrame(f);
    };
    s.onclose = (e) => {
      if (s !== ws) return;
      ws = null;
      if (e && e.code === SERVICE_RESTART) restartTries = RESTART_TRIES;
      onState('closed');
      later();
    };
  }

  function later() {
    clear();
    if (stopped) return;
    if (restartTries > 0) {
      restartTries--;
      retryTimer = setTimeout(open, RESTART_RETRY_MS);
      return;
    }
    retryTimer = setTimeout(open, backoff(attempt++));
  }

  // A socket can die silently (sleeping laptops, mobile radios); an unanswered ping exposes it.
  function ping() {
    if (send({ action: 'ping' })) {
      clearTimeout(deadTimer);
      deadTimer = setTimeout(() => drop(false), PONG_WAIT_MS);
    }
  }

  function drop(now) {
    const s = ws;
    if (!s) return;
    ws = null;
    s.onclose = null;
    try { s.close(1000); } catch (e) { /* already closing */ }
    onState('closed');
    if (now) {
      attempt = 0;
      open();
    } else {
      later();
    }
  }

  function send(frame) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  // Coming back online or to the foreground should not wait out a long backoff.
  function wake() {
    if (stopped) return;
    if (!ws) {
      attempt = 0;
      open();
    } else if (ws.readyState === 1) {
      ping();
    }
  }
  const onVisible = () => document.visibilityState === 'visible' && wake();

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      addEventListener('online', wake);
      document.addEventListener('visibilitychange', onVisible);
      open();
    },
    stop() {
      stopped = true;
      removeEventListener('online', wake);
      document.removeEventListener('visibilitychange', onVisible);
      const s = ws;
      ws = null;
      clear();
      retries.forEach(clearTimeout);
      retries.clear();
      if (s) {
        s.onclose = null;
        s.close(1000);
      }
    },
    send,
    // For `error` frames with retriable: true. The same frame goes again, so a `send` keeps its
    // client_msg_id and the server's idempotency makes the retry safe.
    retry(key, frame) {
      const n = tries.get(key) || 0;
      tries.set(key, n + 1);
      clearTimeout(retries.get(key));
      retries.set(key, setTimeout(() => { retries.delete(key); send(frame); }, backoff(n)));
    },
  };
}
