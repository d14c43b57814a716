// widget/src/protocol.js: what the server's frames do to the widget's state, and what it sends back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as P from '../../widget/src/protocol.js';

const fresh = (over = {}) => ({
  settings: { online: true }, chat: null, wantStart: null, away: false, full: false, offer: 0,
  connected: true, resuming: false, queue: null, after: null, ...over,
});
const queued = () => fresh({ chat: { chat_id: 'c1', status: 'queued' } });

test('welcome carries on with the chat this browser had open, else the newest open one', () => {
  const chats = [{ chat_id: 'a', status: 'active' }, { chat_id: 'b', status: 'queued' }, { chat_id: 'c', status: 'closed' }];
  assert.equal(P.pickChat({ chats }, 'a').chat_id, 'a');
  assert.equal(P.pickChat({ chats }, 'gone').chat_id, 'b');
  assert.equal(P.pickChat({ chats }, 'c').chat_id, 'b', 'a closed chat is never resumed');
  assert.equal(P.pickChat({ chats: [chats[2]] }, 'c'), null);
  assert.equal(P.pickChat({}, null), null);
});

test('queue position and the offline offer apply only to the chat on screen', () => {
  const s = queued();
  assert.equal(P.update(s, { type: 'queue', chat_id: 'other', position: 1, eta_s: 5 }), false);
  assert.equal(s.queue, null);
  assert.equal(P.update(s, { type: 'queue', chat_id: 'c1', position: 3, eta_s: 90 }), true);
  assert.deepEqual(P.status(s), ['queue', s.queue]);
  assert.equal(s.queue.position, 3);
  assert.equal(P.update(s, { type: 'offer_offline', chat_id: 'other' }), false);
  assert.equal(P.offer(s), 0);
  assert.equal(P.update(s, { type: 'offer_offline', chat_id: 'c1' }), true);
  assert.equal(P.offer(s), 1, 'the visitor chooses');
});

test('the queue-timeout offer: keep waiting dismisses it, leaving a message keeps the form, an agent ends it', () => {
  const s = queued();
  P.update(s, { type: 'offer_offline', chat_id: 'c1' });
  s.offer = 0; // "Keep waiting"
  assert.equal(P.offer(s), 0);
  assert.deepEqual(P.status(s), ['waiting'], 'still queued');
  P.update(s, { type: 'offer_offline', chat_id: 'c1' });
  s.offer = 2; // "Leave a message"
  P.update(s, { type: 'offer_offline', chat_id: 'c1' });
  assert.equal(P.offer(s), 2, 'an offer again does not take the form away');
  P.adopt(s, { chat_id: 'c1', status: 'active' });
  assert.equal(P.offer(s), 0, 'an agent took the chat');
  P.closed(s, { chat_id: 'c1', status: 'closed' });
  assert.equal(P.mode(s), 'after', 'a chat an agent took ends with the end-of-chat view');
});

test('sending the form from the offer ends the queued chat: the confirmation stays, not the end-of-chat view', () => {
  const s = queued();
  P.update(s, { type: 'offer_offline', chat_id: 'c1' });
  s.offer = 2; // "Leave a message", then the form was sent
  assert.equal(P.closed(s, { chat_id: 'c1', status: 'closed' }), true);
  assert.equal(P.mode(s), 'away');
  assert.equal(P.offer(s), 2, 'the form (now its confirmation) stays');
  assert.equal(P.status(s), null, 'no "This chat has ended."');
  P.adopt(s, { chat_id: 'c2', status: 'queued' });
  assert.deepEqual([P.mode(s), P.offer(s)], ['chat', 0], 'a later chat starts afresh');
});

test('the offline form starts with what the visitor asked in the chat, then their draft', () => {
  const msgs = [
    { sender: 'system', text: 'Welcome' }, { sender: 'visitor', text: 'Do you ship to Chile?' },
    { sender: 'agent', text: 'Hi' }, { sender: 'visitor', text: 'And to Peru?' },
  ];
  assert.equal(P.asked(msgs, 'Soon?'), 'Do you ship to Chile?\nAnd to Peru?\nSoon?');
  assert.equal(P.asked([], ''), '');
});

test('transcript_sent ends the busy state of the end-of-chat view with the address it went to', () => {
  const s = fresh({ chat: { chat_id: 'c1', status: 'closed' } });
  assert.equal(P.update(s, { type: 'transcript_sent', chat_id: 'c1', email: 'a@example.com' }), false, 'no view, nothing to show');
  s.after = { rating: null, busy: true, sent: null };
  assert.equal(P.update(s, { type: 'transcript_sent', chat_id: 'c1', email: 'a@example.com' }), true);
  assert.deepEqual(s.after, { rating: null, busy: false, sent: 'a@example.com' });
  s.after.sent = null;
  P.update(s, { type: 'transcript_sent', chat_id: 'c1' });
  assert.equal(s.after.sent, true);
});

test('the panel mode and status line follow the state', () => {
  assert.equal(P.mode(fresh()), 'pre');
  assert.equal(P.mode(fresh({ settings: { online: false } })), 'away');
  assert.equal(P.mode(fresh({ away: true })), 'away');
  assert.equal(P.mode(queued()), 'chat');
  assert.equal(P.mode(fresh({ chat: { chat_id: 'c1', status: 'closed' } })), 'after');
  assert.equal(P.status(fresh()), null);
  assert.deepEqual(P.status(fresh({ wantStart: { action: 'start_chat' }, connected: false })), ['connecting']);
  assert.deepEqual(P.status(fresh({ wantStart: { action: 'start_chat' } })), ['waiting']);
  assert.deepEqual(P.status(queued()), ['waiting']);
  assert.deepEqual(P.status(fresh({ chat: { chat_id: 'c1', status: 'closed' } })), ['ended']);
});

test('resume asks for what follows the last message held, or a given sequence number', () => {
  const s = queued();
  assert.deepEqual(P.resumeFrame(s, 7), { action: 'resume', chat_id: 'c1', after_seq: 7 });
  assert.deepEqual(P.resumeFrame(s, 7, 0), { action: 'resume', chat_id: 'c1', after_seq: 0 });
});

test('a retriable error resends the same frame, with the same client_msg_id', () => {
  const s = queued();
  const pending = [{ id: 'm1', text: 'hi' }];
  assert.deepEqual(P.retryFrame(s, { client_msg_id: 'm1' }, pending, 4),
    { action: 'send', chat_id: 'c1', client_msg_id: 'm1', text: 'hi' });
  assert.equal(P.retryFrame(s, { client_msg_id: 'acked' }, pending, 4), null, 'nothing left to resend');
  assert.deepEqual(P.retryFrame(s, { action: 'resume' }, pending, 4), { action: 'resume', chat_id: 'c1', after_seq: 4 });
  const start = { action: 'start_chat', name: 'Ann' };
  assert.equal(P.retryFrame(fresh({ wantStart: start }), { action: 'start_chat' }, [], 0), start);
  const closed = fresh({ chat: { chat_id: 'c1', status: 'closed' } });
  assert.equal(P.retryFrame(closed, { client_msg_id: 'm1' }, pending, 4), null, 'never into a closed chat');
  assert.equal(P.retryFrame(closed, { action: 'resume' }, pending, 4), null);
});

test('offline or queue_full answers to start_chat show the away notice; other errors do not', () => {
  const s = fresh({ wantStart: { action: 'start_chat' } });
  assert.equal(P.refused(s, { code: 'rate_limited' }), false);
  assert.equal(s.away, false);
  assert.equal(P.refused(s, { code: 'queue_full', action: 'start_chat' }), true);
  assert.deepEqual([s.wantStart, s.away, s.full], [null, true, true]);
  assert.equal(P.mode(s), 'away');
  const o = fresh({ wantStart: { action: 'start_chat' } });
  P.refused(o, { code: 'offline' });
  assert.deepEqual([o.wantStart, o.away, o.full], [null, true, false]);
});

test('messages pages: follow next_after, stop resuming on the last page, re-ask while a gap is left', () => {
  const s = queued();
  assert.deepEqual(P.paged(s, { messages: [{ seq: 1 }], next_after: 1 }, 1, false),
    { action: 'resume', chat_id: 'c1', after_seq: 1 });
  assert.equal(s.resuming, true);
  assert.equal(P.paged(s, { messages: [{ seq: 2 }] }, 2, false), null);
  assert.equal(s.resuming, false, 'the last page ends the resume');
  assert.deepEqual(P.paged(s, { messages: [{ seq: 5 }] }, 2, true), { action: 'resume', chat_id: 'c1', after_seq: 2 });
  assert.equal(s.resuming, true);
  assert.equal(P.paged(s, { messages: [] }, 2, true), null, 'an empty page cannot fill the gap: no loop');
  const closed = fresh({ chat: { chat_id: 'c1', status: 'closed' } });
  assert.equal(P.resume(closed, 3), null, 'a closed chat is never resumed');
  assert.equal(closed.resuming, false);
});

test('a new chat replaces the old one and what belonged to it; the same chat keeps it', () => {
  const s = fresh({
    chat: { chat_id: 'old', status: 'closed' }, queue: { position: 1 }, after: { rating: 'good' }, offer: 2,
    opener: { greeting_id: 'g' }, wantStart: { action: 'start_chat' }, away: true,
  });
  assert.equal(P.adopt(s, { chat_id: 'c1', status: 'queued' }), true);
  assert.deepEqual([s.chat.chat_id, s.queue, s.after, s.offer, s.opener, s.wantStart, s.away],
    ['c1', null, null, 0, null, null, false]);
  s.queue = { position: 2 };
  s.offer = 2;
  assert.equal(P.adopt(s, { chat_id: 'c1', status: 'queued' }), false);
  assert.deepEqual([s.queue, s.offer], [{ position: 2 }, 2], 'still queued: the position and the offer stay');
  assert.equal(P.adopt(s, { chat_id: 'c1', status: 'active' }), false);
  assert.equal(s.chat.status, 'active');
  assert.deepEqual([s.queue, s.offer], [null, 0], 'an agent took it: no position, no offer');
});

test('a chat frame closing the chat shown ends it once; other chats are ignored', () => {
  const s = fresh({ chat: { chat_id: 'c1', status: 'active' } });
  assert.equal(P.closed(s, { chat_id: 'other', status: 'closed' }), null);
  assert.equal(s.chat.status, 'active');
  assert.equal(P.closed(s, { chat_id: 'c1', status: 'closed' }), true);
  assert.equal(P.mode(s), 'after');
  s.after = { rating: 'good', busy: true, sent: null };
  assert.equal(P.closed(s, { chat_id: 'c1', status: 'closed', rating: 'good' }), false, 'already ended: no second chat_ended');
  assert.equal(s.after.busy, false, 'the answer to rate');
  assert.equal(s.chat.rating, 'good');
});

test('a chat lost while disconnected ends; restart goes back to the pre-chat form', () => {
  const s = fresh({ chat: { chat_id: 'c1', status: 'active' }, queue: { position: 1 }, away: true });
  assert.equal(P.lost(s), true);
  assert.equal(s.chat.status, 'closed');
  assert.equal(P.lost(s), false);
  P.restart(s);
  assert.deepEqual([s.chat, s.after, s.queue, s.away], [null, null, null, false]);
  assert.equal(P.mode(s), 'pre');
  assert.equal(P.lost(s), false);
});

test('a pending file goes again by its file_id under its first client_msg_id, never as text', () => {
  const s = fresh({ chat: { chat_id: 'c1', status: 'active' } });
  const file = { file_id: 'f_abcdefghijklmnop', name: 'a.png', content_type: 'image/png', size: 72 };
  assert.deepEqual(P.sendFrame(s, { id: 'm1', text: 'a.png', file }), { action: 'send', chat_id: 'c1', client_msg_id: 'm1', file_id: file.file_id });
  assert.deepEqual(P.sendFrame(s, { id: 'm2', text: 'hi' }), { action: 'send', chat_id: 'c1', client_msg_id: 'm2', text: 'hi' });
  const retry = P.retryFrame(s, { type: 'error', client_msg_id: 'm1', retriable: true }, [{ id: 'm1', text: 'a.png', file }], 0);
  assert.equal(retry.file_id, file.file_id);
});
