// A chat's messages in one list element, ordered by seq, each seq shown once, with this
// client's own unacknowledged messages (pending) kept after them in sending order.
// `render(msg)` builds an element; this module owns data-seq and data-state.
export function createTranscript(list, render) {
  const shown = []; // {seq, el, msg}, ascending seq
  const seqs = new Set();
  const pending = new Map(); // client_msg_id -> {el, msg}
  let lastSeq = 0; // highest seq up to which nothing is missing

  // A pending message leaves the list of pending ones (acknowledged, failed or dropped).
  const take = (id) => {
    const p = pending.get(id);
    pending.delete(id);
    return p;
  };

  function firstPendingEl() {
    for (const p of pending.values()) if (p.el.parentNode === list) return p.el;
    return null;
  }

  function place(msg, el) {
    el.setAttribute('data-seq', msg.seq);
    el.removeAttribute('data-state');
    let i = shown.length;
    while (i > 0 && shown[i - 1].seq > msg.seq) i--;
    const next = i < shown.length ? shown[i].el : firstPendingEl();
    list.insertBefore(el, next);
    shown.splice(i, 0, { seq: msg.seq, el, msg });
    seqs.add(msg.seq);
    while (seqs.has(lastSeq + 1)) lastSeq++;
  }

  return {
    get lastSeq() { return lastSeq; },
    // After a page reload the cache says how far this client had read.
    set lastSeq(v) { lastSeq = Math.max(lastSeq, v | 0); },
    get last() { return shown.length ? shown[shown.length - 1].msg : null; },
    // Returns true when the message was new to this list.
    add(msg) {
      if (!msg || typeof msg.seq !== 'number' || seqs.has(msg.seq)) return false;
      const mine = msg.client_msg_id && take(msg.client_msg_id);
      if (mine) mine.el.remove();
      place(msg, render(msg));
      return true;
    },
    // A gap means a frame was missed; the caller resumes after lastSeq.
    get gap() { return shown.length > 0 && shown[shown.length - 1].seq > lastSeq; },
    pend(id, msg) {
      const el = render(msg);
      el.setAttribute('data-state', 'pending');
      list.append(el);
      pending.set(id, { el, msg });
      return el;
    },
    ack(id, seq, ts) {
      const p = take(id);
      if (!p) return false;
      p.el.remove();
      if (!seqs.has(seq)) place({ ...p.msg, seq, ts, client_msg_id: id }, render({ ...p.msg, seq, ts }));
      return true;
    },
    fail(id) {
      const p = take(id);
      if (!p) return null;
      p.el.setAttribute('data-state', 'failed');
      return p.el;
    },
    drop(id) {
      const p = take(id);
      if (p) p.el.remove();
      return p ? p.msg : null;
    },
    pending: () => Array.from(pending, ([id, p]) => ({ id, ...p.msg })),
    messages: () => shown.map((s) => s.msg),
    clear() {
      shown.length = 0;
      seqs.clear();
      pending.clear();
      lastSeq = 0;
      list.textContent = '';
    },
  };
}
