// The chat panel, loaded lazily by loader.js into the shadow root the loader already made.
import { h, show, rid } from '../../ui-common/dom.js';
import { textSpan, clock } from '../../ui-common/text.js';
import { store } from '../../ui-common/storage.js';
import { createSocket } from '../../ui-common/socket.js';
import { createTranscript } from '../../ui-common/transcript.js';
import { typingNotifier } from '../../ui-common/typing.js';
import { createApi, unreachable } from './api.js';
import { loadCatalogue, pickLang, translator } from './i18n.js';
import { buildPanel } from './panel.js';
import { greetingBubble } from './greeting.js';
import { keepAlive, watchRules } from './tracker.js';
import * as P from './protocol.js';

const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}$/; // the server's rule
const CHAT_KEY = 'charla.chat'; // the open chat's id; loader.js also reads it
const OPEN_KEY = 'charla.open'; // the panel was open on the previous page
const cacheKey = (id) => 'charla.t.' + id;
const IDENT_KEY = 'charla.ident'; // the identity last sent for this visitor, and whether it was verified
const SEEN_KEY = 'charla.greeted'; // greetings already shown in this browser session
const CAPPED_KEY = 'charla.capped'; // rules the server said this visitor has seen often enough
const KEEP = 100; // messages cached per chat for the next page

const C = window.Charla;
if (C && C._c && !C._w) C._w = createWidget(C._c);

function createWidget({ host, root, btn, base, lang, group }) {
  const api = createApi(base, () => state.page || ui.group.value);
  const local = store('localStorage');
  const session = store('sessionStorage');
  // Read here rather than by the loader (Intl's first use costs the host page about 20 ms), and kept
  // for the loader's page views.
  try { local.set('charla.tz', C._tz = Intl.DateTimeFormat().resolvedOptions().timeZone); } catch (e) { /* old browser */ }
  const emit = (ev, data) => (C._l[ev] || []).slice().forEach((fn) => { try { fn(data); } catch (e) { /* the page's bug */ } });

  let t = translator('en'); // until the visitor's language is loaded, before anything is drawn
  // Everything the widget knows about the conversation, in one place; protocol.js reads and
  // changes it for the server's frames, and sync() renders it. (ui, tr, sock: the DOM, the
  // transcript and the socket, not state.)
  const state = {
    settings: null, // GET /widget/settings: look, pre-chat, who is online
    settingsAt: 0, // when settings were fetched (ms)
    chat: null, // the chat shown: open, or closed during this page view
    wantStart: null, // a start_chat frame waiting for the connection
    away: false, // start_chat answered `offline` (or `queue_full`)
    full: false, // start_chat answered `queue_full`: others at this address already wait
    offer: 0, // `offer_offline`: 1 offered (the visitor chooses), 2 leaving a message; see P.offer
    connected: false, // the socket is open
    resuming: false, // a `resume` awaits its `messages`
    queue: null, // the last `queue` frame: {position, eta_s}
    isOpen: false, // the panel is open
    unread: 0, // messages from agents since the panel was last open
    email: '', // given at pre-chat: the chat starts with it, and its transcript can go only there
    after: null, // the end-of-chat view: {rating picked, busy (a frame awaits its answer), sent}
    opener: null, // {greeting_id} or {greeting_rule}: the greeting the next start_chat answers
    bubble: null, // the greeting on screen: {el, g}
    ident: null, // Charla.setIdentity's name, email and signature
    page: group, // the group the page chose (data-group, Charla.setGroup); else the visitor picks one (ui.group)
  };
  let ui, tr, sock, ready;
  let typingTimer, saveTimer;
  let wsUrl = '';
  const prefs = () => [lang, ...(navigator.languages || [navigator.language])];

  const typing = typingNotifier((on, draft) => {
    if (!live()) return;
    const f = { action: 'typing', chat_id: state.chat.chat_id, typing: on };
    // Drafts leave the browser only when the visitor has been told agents can see them.
    if (on && state.settings && state.settings.sneak_peek) f.draft = draft.slice(0, 4000);
    sock.send(f);
  });

  const live = () => P.live(state);

  // -- setup --------------------------------------------------------------------------------

  function loadSettings() {
    return api.settings().then((s) => {
      state.settings = s;
      state.settingsAt = Date.now();
      applyLook();
      // The loader skips page views for the session once tracking was off; say when it is back.
      if (s.tracking) session.del('charla.nt');
    }, (e) => {
      // This site is not on the allowlist: a launcher that can never work is worse than none.
      if (e.status === 403) host.remove();
      throw e;
    });
  }

  function init() {
    return ready || (ready = loadSettings().catch((e) => {
      if (e.status === 403) { ready = null; throw e; }
    }).then(useLang).then(build));
  }

  // The panel waits for its language's file (briefly: then English), so a Spanish visitor never
  // sees English first. A newer choice (setLanguage) wins over a slower older one.
  function useLang() {
    const pick = () => pickLang([...prefs(), state.settings && state.settings.language]);
    const code = pick();
    return loadCatalogue(base, code).then(([spoken, values]) => {
      if (code !== pick()) return useLang();
      t = translator(spoken, values);
    });
  }

  function build() {
    if (ui) return;
    ui = buildPanel(t, {
      close, start, send: onSend, input: onInput, key: onKey, panelKey, file: onFile,
      end: endChat, pick, rate, transcript, restart, offer,
      group: () => sync(state.away = false), // another group: try chatting again
    });
    tr = createTranscript(ui.list, render);
    root.append(ui.panel);
    btn.setAttribute('aria-controls', 'charla-panel');
    btn.append(ui.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true }));
    label();
    sync();
    prefill();
  }

  function applyLook() {
    if (state.settings.position === 'left') host.setAttribute('data-pos', 'left');
    else host.removeAttribute('data-pos');
    const c = state.settings.color;
    if (typeof c === 'string' && window.CSS && CSS.supports('color', c)) {
      host.style.setProperty('--charla-accent', c);
      host.style.setProperty('--charla-on-accent', state.settings.on_accent); // black or white: the server picks
    }
  }

  // -- opening and closing ----------------------------------------------------------------------

  async function open(byUser = true) {
    try { await init(); } catch (e) { return; }
    state.isOpen = true;
    state.unread = 0;
    show(ui.panel, true);
    if (state.bubble) show(state.bubble.el, false);
    session.set(OPEN_KEY, 1);
    label();
    // Availability changes; an old "online" must not hide the away notice (or the other way).
    if (!live() && (!state.settings || Date.now() - state.settingsAt > 30e3)) {
      await loadSettings().then(() => { state.away = false; }, (e) => !state.settings && fail(unreachable(e)));
    }
    connect();
    sync();
    scrollDown(true);
    if (byUser) focusFirst();
    emit('open');
  }

  function close() {
    if (!state.isOpen) return;
    state.isOpen = false;
    show(ui.panel, false);
    if (state.bubble) show(state.bubble.el, true);
    session.del(OPEN_KEY);
    label();
    if (ui.panel.contains(root.activeElement)) btn.focus();
    emit('close');
  }

  function focusFirst() {
    const el = [ui.name, ui.input, ui.start, ui.close].find(visible);
    if (el) el.focus();
  }

  function label() {
    btn.setAttribute('aria-expanded', String(state.isOpen));
    btn.setAttribute('aria-label', t(state.isOpen ? 'close' : 'open') + (state.unread ? ' (' + t('unread', { n: state.unread }) + ')' : ''));
    ui.badge.textContent = state.unread;
    show(ui.badge, state.unread > 0);
  }

  // -- what the panel shows -----------------------------------------------------------------

  function sync() {
    if (!ui) return;
    const s = state.settings;
    const anon = !s || s.prechat !== 'name_email';
    // The pre-chat choice of group, when the admin offers one and the page chose none. A group with
    // nobody accepting answers start_chat with `offline`: its offline form shows (api.js sends the group).
    const gs = (s && !state.page && s.groups) || []; // listed only when the admin offers the choice
    if (ui.group.length != gs.length) ui.group.replaceChildren(...gs.map((g) => h('option', { value: g.id, text: g.name })));
    const mode = P.mode(state);
    ui.panel.setAttribute('data-mode', mode);
    const greet = s && ((s.welcome_by_lang || {})[t.lang] || s.welcome);
    ui.greet.textContent = greet || '';
    show(ui.greet, !!greet && (mode === 'pre' || mode === 'chat'));
    const offer = P.offer(state);
    show(ui.away, mode === 'away' || offer);
    show(ui.offer, offer === 1);
    show(ui.offline, offer !== 1);
    if (mode === 'away' || offer) {
      ui.awayText.textContent = t(offer ? 'offerOffline' : state.full ? 'queue_full' : 'away');
      show(ui.awayText, live() || !offer); // once the message replaced the chat, the choice is past
      // The message field starts with what the visitor already asked in the chat (or had typed).
      // Sent from the offer, the message replaces the queued chat, which then ends (docs/protocol.md).
      if (offer !== 1) mountOffline(ui.offline, api, t, (f) => (f.type === 'textarea' ? P.asked(tr.messages().concat(tr.pending()), ui.input.value)
        : f.type === 'email' ? ui.email.value || state.email || (state.ident && state.ident.email)
          : f.name === 'name' ? ui.name.value || (state.ident && state.ident.name) : ''), () => (P.offer(state) ? state.chat.chat_id : null));
    }
    show(ui.pre, mode === 'pre');
    show(ui.groupRow, gs.length && !state.chat && !state.wantStart);
    show(ui.end, mode === 'chat');
    syncAfter(mode === 'after');
    show(ui.nameRow, !anon);
    show(ui.emailRow, !anon);
    ui.start.disabled = !!state.wantStart;
    const composer = mode === 'chat' || (mode === 'pre' && anon);
    show(ui.composer, composer);
    show(ui.file, live() && s.visitor_uploads);
    if (composer && state.settings && state.settings.sneak_peek) ui.composer.before(ui.peek);
    else ui.peek.remove();

    const names = live() && state.chat.status === 'active' && (state.chat.agents || []).map((a) => a.name || t('agent')).join(', ');
    ui.sub.textContent = names ? t('joined', { name: names }) : '';
    show(ui.sub, !!names);

    const st = P.status(state);
    const q = st && st[1];
    const status = !st ? '' : q
      ? t('queue', { position: q.position, eta: q.eta_s < 60 ? t('soon') : t('minutes', { n: Math.ceil(q.eta_s / 60) }) })
      : t(st[0]);
    ui.status.textContent = status;
    show(ui.status, !!status);
  }

  function render(m) {
    const who = m.sender === 'visitor' || m.sender === 'agent' ? m.sender : 'system';
    const el = h('li', { class: 'msg ' + who, 'data-testid': 'charla-message', 'data-sender': who });
    el.hidden = m.kind === 'hidden'; // an agents-only line: only its seq reaches the visitor
    if (who === 'agent') el.append(h('span', { class: 'who', dir: 'auto', text: m.sender_name || t('agent') }));
    el.append(m.file ? fileEl(m.file) : textSpan(m.text));
    if (m.ts && who !== 'system') el.append(clock(m.ts, t.lang));
    return el;
  }

  // later.js (the offline form, files in chats): fetched with a script element, like the language
  // files, on first use.
  let laterJs;
  const later = () => laterJs || (laterJs = new Promise((ok, no) => document.head.append(h('script', {
    src: base + 'later.js', onload: () => ok(C._x), onerror: () => no(laterJs = 0),
  }))));

  // `slot.ready` settles with the form's first field, as offline.js's own does.
  function mountOffline(slot, ...a) {
    slot.ready = slot.ready || later().then((X) => X.mountOffline(slot, ...a) || slot.ready);
  }

  function fileEl(file) {
    const el = textSpan(file.name);
    const id = state.chat.chat_id;
    later().then((X) => X.show(el, file, api, id), () => {});
    return el;
  }

  function onFile(e) {
    const f = e.target.files[0];
    e.target.value = '';
    if (!f || !live()) return;
    clearError();
    later().then((X) => X.up(api, state.chat.chat_id, f, t.lang)).then((file) => {
      const id = rid();
      tr.pend(id, { sender: 'visitor', text: file.name, file });
      scrollDown(true);
      sock.send(P.sendFrame(state, { id, file }));
      save();
    }, (err) => fail(0, err && err.message));
  }

  function scrollDown(force) {
    const b = ui.list.parentNode;
    if (force || b.scrollHeight - b.scrollTop - b.clientHeight < 120) b.scrollTop = b.scrollHeight;
  }

  function fail(code, message) {
    ui.error.textContent = t.has(code) ? t(code) : message || t('generic');
    show(ui.error, true);
  }
  const clearError = () => show(ui.error, false);

  // -- the connection -------------------------------------------------------------------------

  function connect() {
    if (sock || !state.settings) return;
    if (!state.settings.online && !api.hasIdentity()) return; // nothing to resume and nobody to talk to
    sock = createSocket({
      url: () => wsUrl,
      ticket: async () => {
        wsUrl = (await api.config()).ws;
        return api.ticket().catch((e) => {
          if (e.status == 403) sync(sock.stop(state.banned = 1));
          else if (e.status == 429) fail(unreachable(e));
          throw e;
        });
      },
      onFrame,
      onState(s) {
        state.connected = s === 'open';
        sync();
      },
    });
    sock.start();
  }

  function onFrame(f) {
    if (P.update(state, f)) return sync();
    const mine = P.mine(state, f);
    switch (f.type) {
      case 'welcome': return welcome(f);
      case 'chat': return onChat(f.chat);
      case 'message':
        if (mine) addMsg(f.message, true);
        return;
      case 'messages':
        if (!mine) return;
        (f.messages || []).forEach((m) => addMsg(m, false));
        return out(P.paged(state, f, tr.lastSeq, tr.gap));
      case 'ack':
        if (tr.ack(f.client_msg_id, f.seq, f.ts)) save();
        return;
      case 'typing':
        if (mine && f.from === 'agent') agentTyping(f.typing, f.name);
        return;
      case 'greeting': return greet(f);
      case 'error': return onError(f);
    }
  }

  function welcome(f) {
    sendIdentity(); // the visitor has an identity now
    state.resuming = false;
    const known = local.get(CHAT_KEY);
    const c = P.pickChat(f, known);
    if (c) {
      setChat(c);
      resume();
      flush();
    } else {
      if (known) forget(known);
      if (P.lost(state)) { // it ended while we were disconnected
        ended();
        emit('chat_ended', state.chat);
      }
      if (state.wantStart) sock.send(state.wantStart);
      else greet(f.greeting); // one posted while this socket was still connecting
    }
    sync();
  }

  function setChat(c) {
    const fresh = P.adopt(state, c);
    if (fresh) {
      // A new chat: clear the old transcript but keep messages typed before it existed.
      const keep = tr.pending();
      tr.clear();
      const cache = local.get(cacheKey(c.chat_id));
      if (cache && cache.seq <= c.last_seq) {
        tr.lastSeq = cache.seq;
        (cache.msgs || []).forEach((m) => tr.add(m));
        keep.unshift(...(cache.pending || []));
      }
      keep.forEach((p) => tr.pend(p.id, { sender: 'visitor', text: p.text }));
      local.set(CHAT_KEY, c.chat_id);
      scrollDown(true);
      hideGreeting();
    }
    return fresh;
  }

  function onChat(c) {
    if (!c || !c.chat_id) return;
    if (c.status === 'closed') {
      const was = P.closed(state, c);
      if (was == null) return;
      forget(c.chat_id);
      agentTyping(false);
      typing.stop();
      if (was) {
        ended();
        emit('chat_ended', c);
      }
    } else {
      if (setChat(c)) {
        resume();
        flush();
        emit('chat_started', c);
      }
    }
    sync();
    emit('chat', c);
  }

  const resume = () => out(P.resume(state, tr.lastSeq));
  const out = (f) => f && sock.send(f);

  // Unacknowledged messages go again after every (re)connect; client_msg_id makes that safe.
  function flush() {
    if (live()) tr.pending().forEach((p) => sock.send(P.sendFrame(state, p)));
  }

  function addMsg(m, fresh) {
    const b = ui.list.parentNode;
    const near = b.scrollHeight - b.scrollTop - b.clientHeight < 120;
    if (!tr.add(m)) return;
    if (m.sender === 'agent') agentTyping(false);
    if (fresh && m.sender !== 'visitor') {
      if (!state.isOpen) { state.unread++; label(); }
      emit('message', m);
    }
    if (fresh && tr.gap && !state.resuming) resume();
    if (near) scrollDown(true);
    save();
  }

  function agentTyping(on, name) {
    clearTimeout(typingTimer);
    ui.typing.textContent = on ? t('typing', { name: name || t('agent') }) : '';
    show(ui.typing, !!on);
    // A lost `typing: false` must not leave the indicator up forever.
    if (on) typingTimer = setTimeout(() => agentTyping(false), 10e3);
  }

  function onError(f) {
    if ((f.action === 'rate' || f.action === 'transcript') && state.after) {
      // The visitor asked for these and sees the button again: they can simply retry.
      state.after.busy = false;
      sync();
      return fail(f.retriable ? 'generic' : f.code, f.message);
    }
    if (f.retriable) {
      const frame = P.retryFrame(state, f, tr.pending(), tr.lastSeq);
      if (frame) sock.retry(f.client_msg_id || f.action, frame);
      return;
    }
    if (P.refused(state, f)) {
      // Give the visitor back what they typed; it can go into the offline form.
      const typed = tr.pending().map((p) => (tr.drop(p.id), p.text)).join('\n');
      if (typed && !ui.input.value) ui.input.value = typed;
      sync();
      return;
    }
    if (f.code === 'too_long' && f.client_msg_id) {
      // Hand the text back so it can be shortened rather than retyped.
      const p = tr.drop(f.client_msg_id);
      if (p && !ui.input.value) ui.input.value = p.text;
      save();
    } else if (f.client_msg_id) {
      const el = tr.fail(f.client_msg_id);
      if (el) el.append(h('span', { class: 'failed', text: t('failed') }));
      save();
    } else if (f.action === 'start_chat') {
      state.wantStart = null;
      sync();
    } else if (f.action === 'resume' && f.code === 'not_found' && state.chat) {
      forget(state.chat.chat_id);
      P.lost(state);
      sync();
    }
    fail(f.code, f.message);
  }

  function save() {
    clearTimeout(saveTimer);
    if (!live()) return;
    const id = state.chat.chat_id;
    saveTimer = setTimeout(() => {
      const msgs = tr.messages().slice(-KEEP).map(({ seq, kind, sender, sender_name, text, ts, client_msg_id, file }) =>
        ({ seq, kind, sender, sender_name, text, ts, client_msg_id, file }));
      local.set(cacheKey(id), { seq: tr.lastSeq, msgs, pending: tr.pending().map(({ id: pid, text, file }) => ({ id: pid, text, file })) });
    }, 200);
  }

  function forget(id) {
    clearTimeout(saveTimer);
    local.del(cacheKey(id));
    if (local.get(CHAT_KEY) === id) local.del(CHAT_KEY);
  }

  // -- the visitor's input ----------------------------------------------------------------------

  function start(e) {
    if (e) e.preventDefault();
    clearError();
    const f = { action: 'start_chat' };
    if (state.settings && state.settings.prechat === 'name_email') {
      const name = ui.name.value.trim();
      state.email = ui.email.value.trim();
      ui.name.setAttribute('aria-invalid', String(!name));
      ui.email.setAttribute('aria-invalid', String(!EMAIL.test(state.email)));
      if (!name) return fail('needName'), ui.name.focus();
      if (!EMAIL.test(state.email)) return fail('needEmail'), ui.email.focus();
      f.name = name;
      f.email = state.email;
    } else if (state.ident) {
      // Anonymous pre-chat, but the site said who this is (Charla.setIdentity).
      if (state.ident.name && state.ident.name.length <= 100) f.name = state.ident.name;
      if (EMAIL.test(state.ident.email)) f.email = state.email = state.ident.email;
    }
    f.group = state.page || ui.group.value; // '': none
    if (state.opener) Object.assign(f, state.opener);
    // Shown in the agent's visitor panel; cut to the server's limits, which refuse longer text.
    f.context = {
      url: location.href.slice(0, 2000),
      title: document.title.slice(0, 300),
      referrer: document.referrer.slice(0, 2000),
      language: navigator.language,
      timezone: C._tz,
    };
    state.wantStart = f;
    connect();
    // Only after `welcome` (else `welcome` sends it): frames on one socket are handled in parallel, and
    // a `welcome` computed before this chat existed must not arrive after it and end it in the panel.
    if (sock && state.connected) sock.send(f);
    sync();
    if (visible(ui.input)) ui.input.focus();
  }

  function onSend(e) {
    e.preventDefault();
    const text = ui.input.value;
    if (!text.trim()) return;
    clearError();
    ui.input.value = '';
    grow();
    typing.stop();
    const id = rid();
    tr.pend(id, { sender: 'visitor', text });
    scrollDown(true);
    if (live()) {
      sock.send(P.sendFrame(state, { id, text }));
      save();
    } else if (!state.wantStart) {
      start(); // anonymous pre-chat: the first message starts the chat
    }
  }

  function onInput() {
    grow();
    if (live()) typing.input(ui.input.value);
  }

  function onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit ? ui.composer.requestSubmit() : onSend(e);
    }
  }

  function panelKey(e) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    }
  }

  // -- after the chat: rating, transcript, a new chat -------------------------------------------

  function ended() {
    // The composer (or End chat) is about to disappear under the keyboard focus; keep it in the
    // panel. (Read first: the browser may drop focus from a hidden element as soon as it lays out.)
    const a = root.activeElement;
    sync();
    scrollDown(true); // the rating is below the transcript
    if (state.isOpen && a && ui.panel.contains(a) && !visible(a)) {
      const next = [ui.good, ui.trSend, ui.newChat].find(visible);
      if (next) next.focus();
    }
  }

  function syncAfter(on) {
    show(ui.after, on);
    if (!on) return;
    if (!state.after) {
      state.after = { rating: null, busy: false, sent: null };
      ui.comment.value = '';
    }
    const to = (state.chat.visitor && state.chat.visitor.email) || '';
    ui.trTo.textContent = to;
    // Rating is about an agent's help: a chat nobody joined has nothing to rate.
    const rated = !!state.chat.rating;
    const rateable = !!(state.chat.agents && state.chat.agents.length);
    show(ui.rate, rateable && !rated);
    show(ui.rated, rated);
    ['good', 'bad'].forEach((r) => ui[r].setAttribute('aria-pressed', String(state.after.rating === r)));
    ui.rateSubmit.disabled = !state.after.rating || state.after.busy;
    show(ui.tr, !!to && !state.after.sent && !(state.settings && state.settings.transcript_email === false)); // SES can't mail it
    ui.trSend.disabled = state.after.busy;
    show(ui.trSent, !!state.after.sent);
    ui.trSent.textContent = state.after.sent ? t('transcriptSent', { email: state.after.sent === true ? '' : state.after.sent }) : '';
  }

  function pick(r) {
    state.after.rating = r;
    sync();
  }

  function rate(e) {
    e.preventDefault();
    if (!state.after || !state.after.rating || state.after.busy) return;
    clearError();
    const comment = ui.comment.value.trim().slice(0, 1000);
    const f = { action: 'rate', chat_id: state.chat.chat_id, rating: state.after.rating };
    if (comment) f.comment = comment;
    if (!(sock && sock.send(f))) return fail('network');
    state.after.busy = true;
    sync();
  }

  function transcript(e) {
    e.preventDefault();
    if (!state.after || state.after.busy) return;
    clearError();
    if (!(sock && sock.send({ action: 'transcript', chat_id: state.chat.chat_id }))) return fail('network');
    state.after.busy = true;
    sync();
  }

  // The first click asks (the label changes for 4 s); the second one ends the chat.
  function endChat() {
    if (!live()) return;
    const b = ui.end;
    if (!b.dataset.sure) {
      b.dataset.sure = b.textContent = t('endSure');
      return setTimeout(() => { delete b.dataset.sure; b.textContent = t('endChat'); }, 4e3);
    }
    clearError();
    if (!(sock && sock.send({ action: 'close', chat_id: state.chat.chat_id }))) fail('network');
  }

  // Back to the start: the old transcript goes, the pre-chat form (or the away notice) returns.
  function restart() {
    P.restart(state);
    tr.clear();
    clearError();
    sync();
    focusFirst();
    if (Date.now() - state.settingsAt > 30e3) loadSettings().then(sync, () => {});
  }

  // The answer to `offer_offline`: 0 keep waiting (the offer goes), 2 leave a message (the form shows).
  function offer(n) {
    state.offer = n;
    sync();
    n ? ui.offline.ready.then((el) => el && el.focus()) : ui.input.focus();
  }

  function grow() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
  }

  // -- greetings (docs/protocol.md: `greeting`; automatic rules from the settings) ------------

  function greet(g) {
    if (!g || typeof g.text !== 'string' || live()) return;
    const seen = session.get(SEEN_KEY) || [];
    if (g.greeting_id) {
      if (seen.includes(g.greeting_id)) return; // once per greeting, not again on every page
      session.set(SEEN_KEY, seen.concat(g.greeting_id).slice(-20));
    }
    showGreeting({ text: g.text, from: g.from, opener: g.greeting_id ? { greeting_id: g.greeting_id } : g.opener });
  }

  function showGreeting(g) {
    hideGreeting();
    const el = greetingBubble(t, g, {
      answer: (text) => answer(text, g.opener),
      dismiss: () => { hideGreeting(); btn.focus(); },
    });
    state.bubble = { el, g };
    show(el, !state.isOpen);
    root.append(el);
    emit('greeting', { text: g.text, from: g.from || null });
  }

  function hideGreeting() {
    if (state.bubble) state.bubble.el.remove();
    state.bubble = null;
  }

  // Replying to the bubble is the first message of a chat that answers the greeting.
  async function answer(text, op) {
    hideGreeting();
    state.opener = op || null;
    await open(true);
    if (!ui) return;
    ui.input.value = text;
    onSend({ preventDefault() {} });
  }

  function onRule(r) {
    if (live() || state.isOpen || state.bubble || C._h) return; // never over a conversation or a hidden widget
    const capped = local.get(CAPPED_KEY) || [];
    if (capped.includes(r.id)) return;
    api.shown(r.id).then((a) => {
      if (a && a.show) greet({ text: a.text, opener: { greeting_rule: r.id } });
      else local.set(CAPPED_KEY, capped.concat(r.id).slice(-50));
    }, () => {});
  }

  // -- the page's API: Charla.setIdentity, Charla.setLanguage ----------------------------------

  function setIdentity(who) {
    const body = {};
    for (const k of ['name', 'email', 'signature']) if (who && typeof who[k] === 'string' && who[k]) body[k] = who[k];
    if (!body.name && !body.email) return Promise.resolve(null);
    state.ident = body;
    prefill();
    return sendIdentity();
  }

  // Sent once per visitor and identity; a visitor without an identity yet gets it after `welcome`.
  function sendIdentity() {
    if (!state.ident) return Promise.resolve(null);
    return api.loaderDone().then(() => {
      if (!api.hasIdentity()) return null;
      const key = JSON.stringify([api.visitorId(), state.ident]);
      const done = local.get(IDENT_KEY);
      if (done && done.k === key) return { verified: done.v };
      return api.identify(state.ident).then((r) => {
        local.set(IDENT_KEY, { k: key, v: !!(r && r.verified) });
        return r;
      });
    }).catch(() => null);
  }

  function prefill() {
    if (!ui || !state.ident) return;
    if (state.ident.name && !ui.name.value) ui.name.value = state.ident.name;
    if (EMAIL.test(state.ident.email) && !ui.email.value) ui.email.value = state.ident.email;
  }

  function setLanguage(code) {
    if (typeof code !== 'string') return Promise.resolve();
    lang = code;
    return useLang().then(relabel);
  }

  function relabel() {
    if (state.bubble) showGreeting(state.bubble.g);
    if (!ui) return;
    // The panel's words are set when it is built: build it again around the same transcript.
    const keep = { msgs: tr.messages(), pending: tr.pending(), last: tr.lastSeq, draft: ui.input.value };
    for (const el of [ui.panel, ui.badge, ui.peek]) el.remove();
    ui = null;
    build();
    keep.msgs.forEach((m) => tr.add(m));
    tr.lastSeq = keep.last;
    keep.pending.forEach((p) => tr.pend(p.id, { sender: 'visitor', text: p.text }));
    ui.input.value = keep.draft;
    show(ui.panel, state.isOpen);
    label();
    sync();
  }

  // -- boot -------------------------------------------------------------------------------------

  // A conversation in progress continues on every page, panel open or not.
  const quiet = () => {};
  if (local.get(CHAT_KEY) && api.hasIdentity()) init().then(connect, quiet);
  if (session.get(OPEN_KEY)) open(false);
  else init().catch(quiet);
  // Tracked visitors keep a socket while an agent is online, so a greeting reaches them at once.
  init().then(() => api.loaderDone()).then(() => {
    if (!state.settings || !state.settings.tracking) return;
    keepAlive(C);
    if (api.hasIdentity() && state.settings.online) connect(); // nobody online greets: no idle socket then
    greet(C._g);
    watchRules(state.settings.greetings, C._t || Date.now(), onRule);
  }, quiet);

  const widget = {
    open: () => open(true), close, toggle: () => (state.isOpen ? close() : open(true)),
    setLanguage, setIdentity,
    setGroup: (id) => sync(state.page = id),
    // From the loader's page view, perhaps before the panel's language is known.
    greet: (g) => init().then(() => greet(g), quiet),
  };
  // Calls the page made before this script arrived, in their order.
  (C._q || []).splice(0).forEach(([k, args, settle]) => settle(widget[k](...args)));
  emit('ready');
  return widget;
}

const visible = (el) => el.getClientRects().length > 0;
