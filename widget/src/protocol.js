// What the server's frames do to the widget's state, and which frames to send back: no DOM
// here, so node can test it (tests/js/protocol.test.mjs). The frames are in docs/protocol.md.

// An open chat: the composer shows and frames for it may go out.
export const live = (s) => !!s.chat && s.chat.status !== 'closed';

// The frame is about the chat on screen (frames for other chats of this visitor are ignored).
export const mine = (s, f) => !!s.chat && f.chat_id === s.chat.chat_id;

// The visitor sent the offline form from the queue-timeout offer, which ended the queued chat: the
// form's confirmation stays on screen, not the end-of-chat view.
const left = (s) => s.offer > 1 && !!s.chat && !live(s);

// The panel's mode: the conversation, the end-of-chat view, the away notice or the pre-chat form.
export const mode = (s) => (live(s) ? 'chat' : left(s) ? 'away' : s.chat ? 'after' : s.away || (s.settings && !s.settings.online) ? 'away' : 'pre');

// The status line as [message key, params], or null for none.
export function status(s) {
  if (s.banned) return ['forbidden']; // refused for good (a ban): not "Connecting…" forever
  if ((live(s) || s.wantStart) && !s.connected) return ['connecting'];
  if (s.wantStart) return ['waiting'];
  if (live(s) && s.chat.status === 'queued') return s.queue ? ['queue', s.queue] : ['waiting'];
  if (s.chat && !live(s) && !left(s)) return ['ended'];
  return null;
}

// The queue-timeout offer on screen: 1 the visitor chooses (keep waiting or leave a message), 2 they
// chose to leave one (the offline form shows, and stays once sending it ended the chat), 0 none (never
// offered, "Keep waiting", or an agent took the chat).
export const offer = (s) => ((live(s) && s.chat.status === 'queued') || left(s) ? s.offer : 0);

// What the visitor asked, for the offline form's message: what they sent in the chat, then their draft.
export const asked = (msgs, draft) =>
  msgs.filter((m) => m.sender === 'visitor').map((m) => m.text).concat(draft).filter(Boolean).join('\n');

// Frames that only change state. Returns true when the panel should render again.
export function update(s, f) {
  if (!mine(s, f)) return false;
  if (f.type === 'queue') s.queue = f;
  else if (f.type === 'offer_offline') s.offer = s.offer || 1;
  else if (f.type === 'transcript_sent' && s.after) {
    s.after.sent = f.email || true;
    s.after.busy = false;
  } else return false;
  return true;
}

// `welcome` lists the visitor's chats: carry on with the one this browser had open (known),
// else the newest open one; null when none is open.
export function pickChat(f, known) {
  const open = (f.chats || []).filter((c) => c && c.status !== 'closed');
  return open.find((x) => x.chat_id === known) || open[open.length - 1] || null;
}

// Ask for the messages after `from` (default: the last one held), after a gap or a reconnect.
export const resumeFrame = (s, lastSeq, from) =>
  ({ action: 'resume', chat_id: s.chat.chat_id, after_seq: from != null ? from : lastSeq });

export const sendFrame = (s, p) => ({ action: 'send', chat_id: s.chat.chat_id, client_msg_id: p.id, ...(p.file ? { file_id: p.file.file_id } : { text: p.text }) });

// A retriable `error`: the frame to send again (same client_msg_id, so the server can dedupe), or null.
export function retryFrame(s, f, pending, lastSeq) {
  if (f.client_msg_id) {
    const p = pending.find((x) => x.id === f.client_msg_id);
    return p && live(s) ? sendFrame(s, p) : null;
  }
  if (f.action === 'start_chat') return s.wantStart;
  if (f.action === 'resume' && live(s)) return resumeFrame(s, lastSeq);
  return null;
}

// start_chat answered `offline` or `queue_full`: the away notice (with the offline form) instead.
export function refused(s, f) {
  if (f.code !== 'offline' && f.code !== 'queue_full') return false;
  s.wantStart = null;
  s.away = true;
  s.full = f.code === 'queue_full';
  return true;
}

// Ask for what this browser lacks of the open chat; none for a closed one.
export function resume(s, lastSeq, from) {
  if (!live(s)) return null;
  s.resuming = true;
  return resumeFrame(s, lastSeq, from);
}

// A `messages` page was added: the next `resume` (the next page, or a gap still open), or null.
export function paged(s, f, lastSeq, gap) {
  if (f.next_after != null) return resume(s, lastSeq, f.next_after);
  s.resuming = false;
  return gap && f.messages && f.messages.length ? resume(s, lastSeq) : null;
}

// An open chat from `chat` or `welcome` becomes the one shown. True when it replaces another: the
// queue position, end-of-chat view, offline offer and greeting answer belonged to that one.
export function adopt(s, c) {
  const fresh = !s.chat || s.chat.chat_id !== c.chat_id;
  if (fresh) s.after = s.opener = null;
  // The queue position and the offer end when the chat leaves the queue for an agent.
  if (fresh || c.status !== 'queued') s.queue = null, s.offer = 0;
  s.chat = c;
  s.wantStart = null;
  s.away = false;
  return fresh;
}

// A `chat` frame closing a chat: null when it is not the one shown, else whether it was open until now.
export function closed(s, c) {
  if (!mine(s, c)) return null;
  const was = live(s);
  s.chat = c;
  if (s.after) s.after.busy = false; // the answer to `rate`
  return was;
}

// The chat shown is gone on the server (absent from `welcome`, or `resume` found nothing): it ended.
// Returns whether it was open until now.
export function lost(s) {
  const was = live(s);
  if (s.chat) s.chat = { ...s.chat, status: 'closed' };
  return was;
}

// "New chat" after the end-of-chat view: back to the pre-chat form (or the away notice).
export function restart(s) {
  s.chat = s.after = s.queue = null;
  s.away = false;
}
