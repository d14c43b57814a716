// ui-common/typing.js: typing notices are rate-limited, never lose the last draft, and stop when idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { typingNotifier } from '../../ui-common/typing.js';

test('bursts of input send one notice now and the last draft once the interval has passed', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const sent = [];
  const notifier = typingNotifier((on, draft) => sent.push([on, draft]), 500, 4000);
  t.mock.timers.tick(1000);
  notifier.input('h');
  notifier.input('he');
  notifier.input('hel');
  assert.deepEqual(sent, [[true, 'h']]);
  t.mock.timers.tick(500);
  assert.deepEqual(sent, [[true, 'h'], [true, 'hel']], 'the trailing notice carries the last draft');
});

test('typing stops after the idle time, and an emptied box stops it at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const sent = [];
  const notifier = typingNotifier((on, draft) => sent.push([on, draft]), 500, 4000);
  t.mock.timers.tick(1000);
  notifier.input('hi');
  t.mock.timers.tick(4000);
  assert.deepEqual(sent.at(-1), [false, undefined]);
  notifier.input('again');
  notifier.input('   ');
  assert.deepEqual(sent.at(-1), [false, undefined]);
  const count = sent.length;
  notifier.stop();
  assert.equal(sent.length, count, 'no second stop notice');
});
