// ui-common/socket.js: after the local stack restarts, the widget and the console are back within seconds,
// while any other drop keeps the documented backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from '../../ui-common/socket.js';

class FakeSocket {
  static made = [];
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    FakeSocket.made.push(this);
  }
  send() {}
  close() {}
  // The server's side: a welcome, then a close with `code`.
  welcome() { this.onmessage({ data: JSON.stringify({ type: 'welcome' }) }); }
  closedByServer(code) { this.readyState = 3; this.onclose({ code }); }
}

function setUp(t) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  t.mock.method(Math, 'random', () => 0.5); // no jitter
  FakeSocket.made = [];
  globalThis.WebSocket = FakeSocket;
  globalThis.addEventListener = () => {};
  globalThis.removeEventListener = () => {};
  globalThis.document = { addEventListener() {}, removeEventListener() {}, visibilityState: 'visible' };
  const server = { up: true };
  const sock = createSocket({
    url: () => 'ws://stack/ws',
    ticket: async () => {
      if (!server.up) throw new TypeError('Failed to fetch');
      return 'ticket';
    },
    onFrame() {},
    onState() {},
  });
  t.after(() => sock.stop());
  return { server, sock };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

async function elapse(t, ms) {
  for (let i = 0; i < ms / 500; i++) {
    t.mock.timers.tick(500);
    await settle();
  }
}

async function downFor(t, code, seconds) {
  const { server, sock } = setUp(t);
  sock.start();
  await settle();
  FakeSocket.made[0].welcome();
  server.up = false;
  FakeSocket.made[0].closedByServer(code);
  await elapse(t, seconds * 1000);
  server.up = true;
  await elapse(t, 2000);
  return FakeSocket.made.length;
}

test('a socket the local stack closed for a restart (1012) is open again within 2 s of the stack being back', async (t) => {
  assert.equal(await downFor(t, 1012, 12), 2);
});

test('any other drop keeps the exponential backoff (1, 2, 4, 8 s: nothing between 12 s and 14 s)', async (t) => {
  assert.equal(await downFor(t, 1001, 12), 1);
});
