// agent-ui/src/visitor_lines.js: a Visitors-list line read before the one shown does not replace it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { olderLine } from '../../agent-ui/src/visitor_lines.js';

const listed = { id: 'v_1', chat_state: 'chatting', as_of: '2026-12-03T07:40:01.250Z' };

test('a frame queued before the list was re-read is older news', () => {
  assert.equal(olderLine(listed, { id: 'v_1', chat_state: 'browsing', as_of: '2026-12-03T07:40:00.900Z' }), true);
});

test('a line read after the one shown, or at the same moment, replaces it', () => {
  assert.equal(olderLine(listed, { id: 'v_1', chat_state: 'browsing', as_of: '2026-12-03T07:40:05.000Z' }), false);
  assert.equal(olderLine(listed, { id: 'v_1', as_of: listed.as_of }), false);
});

test('a line without a time (an erasure, an older server) is always taken', () => {
  assert.equal(olderLine(listed, { id: 'v_1', online: false }), false);
  assert.equal(olderLine({ id: 'v_1' }, { id: 'v_1', as_of: '2026-12-03T07:40:00.000Z' }), false);
  assert.equal(olderLine(undefined, { id: 'v_1', as_of: '2026-12-03T07:40:00.000Z' }), false);
});
