// ui-common/transcript.js: ordering by seq, no duplicates, gap detection, and pending messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTranscript } from '../../ui-common/transcript.js';

// Just enough of a DOM list for the transcript: children in order, insertBefore, append, remove.
function fakeList() {
  const list = { children: [], textContent: '' };
  const attach = (el) => {
    el.parentNode = list;
    el.remove = () => {
      list.children.splice(list.children.indexOf(el), 1);
      el.parentNode = null;
    };
  };
  list.insertBefore = (el, next) => {
    attach(el);
    const at = next ? list.children.indexOf(next) : list.children.length;
    list.children.splice(at, 0, el);
  };
  list.append = (el) => list.insertBefore(el, null);
  return list;
}

function element(msg) {
  const attrs = {};
  return {
    text: msg.text,
    setAttribute: (k, v) => { attrs[k] = String(v); },
    removeAttribute: (k) => { delete attrs[k]; },
    attr: (k) => attrs[k],
  };
}

const texts = (list) => list.children.map((el) => el.text);

test('messages show in seq order, each once, whatever order they arrive in', () => {
  const list = fakeList();
  const t = createTranscript(list, element);
  for (const seq of [2, 1, 3, 2, 1]) t.add({ seq, text: `m${seq}` });
  assert.deepEqual(texts(list), ['m1', 'm2', 'm3']);
  assert.equal(t.lastSeq, 3);
  assert.equal(t.gap, false);
});

test('a missed frame is a gap until the message after lastSeq arrives', () => {
  const list = fakeList();
  const t = createTranscript(list, element);
  t.add({ seq: 1, text: 'm1' });
  t.add({ seq: 3, text: 'm3' });
  assert.equal(t.gap, true, 'seq 2 is missing');
  assert.equal(t.lastSeq, 1, 'a resume asks for what comes after 1');
  t.add({ seq: 2, text: 'm2' });
  assert.equal(t.gap, false);
  assert.equal(t.lastSeq, 3);
  assert.deepEqual(texts(list), ['m1', 'm2', 'm3']);
});

test('an own message stays after the stored ones until acknowledged, then takes its place', () => {
  const list = fakeList();
  const t = createTranscript(list, element);
  t.add({ seq: 1, text: 'm1' });
  const el = t.pend('c1', { text: 'mine' });
  assert.equal(el.attr('data-state'), 'pending');
  t.add({ seq: 2, text: 'theirs' });
  assert.deepEqual(texts(list), ['m1', 'theirs', 'mine'], 'a pending message stays last');
  t.ack('c1', 3, 't3');
  assert.deepEqual(texts(list), ['m1', 'theirs', 'mine']);
  assert.equal(t.pending().length, 0);
  assert.equal(t.lastSeq, 3);
});

test('the echo of an own message replaces the pending copy instead of doubling it', () => {
  const list = fakeList();
  const t = createTranscript(list, element);
  t.pend('c1', { text: 'mine' });
  assert.equal(t.add({ seq: 1, text: 'mine', client_msg_id: 'c1' }), true);
  assert.deepEqual(texts(list), ['mine']);
  assert.equal(t.ack('c1', 1, 't1'), false, 'already placed by its echo');
  assert.deepEqual(texts(list), ['mine']);
});

test('a failed message is kept and marked so it can be sent again', () => {
  const list = fakeList();
  const t = createTranscript(list, element);
  t.pend('c1', { text: 'mine' });
  assert.equal(t.fail('c1').attr('data-state'), 'failed');
  assert.equal(t.fail('c1'), null, 'only once');
  assert.deepEqual(texts(list), ['mine']);
});
