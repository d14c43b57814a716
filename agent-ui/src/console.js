// The signed-in console: header (status toggle first), chat list, conversation, visitor info,
// and the WebSocket that feeds them.
import { h, show, rid } from '../../ui-common/dom.js';
import { createSocket } from '../../ui-common/socket.js';
import { createTranscript } from '../../ui-common/transcript.js';
import { typingNotifier } from '../../ui-common/typing.js';
import { t, T, L, lang, onLang, lineSpan, reLines, errorText } from './i18n.js';
import { createNotifier } from './notify.js';
import { createChatList, presenceOf, visitorName } from './chatlist.js';
import { createConversation } from './conversation.js';
import { createTagStore } from './tags.js';
import { createChatFiles } from './chat_files.js';
import { createMoreMenu } from './menu.js';
import { createVisitorPanel } from './visitor.js';
import { createCanned } from './canned.js';
import { clock } from '../../ui-common/text.js';
import { createVisitorsView } from './visitors.js';
import { createAdminSections } from './admin.js';
import { createTicketsView } from './tickets.js';
import { createArchiveView } from './archive.js';
import { createReportsView } from './reports.js';
import { createTabBadge } from './unread.js';
import { createTeamChats } from './team_chats.js';

const TICK_MS = 5e3; // how often red/green and waiting times are recomputed
const PEEK_STALE_MS = 30e3;
const DEFAULT_WAIT_S = 60; // until `welcome` brings the admin's wait_threshold_s
// Frames worth sending again after a retriable error (typing is not: it is stale by then).
const RETRYABLE = ['accept', 'close', 'set_status', 'resume', 'invite_reply', 'transfer', 'invite', 'read', 'supervise', 'unsupervise', 'join'];
const READ_DELAY_MS = 1e3; // read positions go to the server at most this often per chat

export function createConsole({ root, auth, runtime, me: profile, langSelect, onLogout }) {
  let me = { ...profile };
  const chats = new Map(); // chat_id -> chat state, for the agent's chats, the queue and chats an admin supervises
  const invitations = new Map();
  const accepting = new Set(); // chats this agent clicked Accept on and is waiting to hear about
  const lastFrames = new Map();
  const transferring = new Map(); // chat_id -> the name of the agent this tab handed it to
  const waiting = new Map(); // frames clicked while the socket was down, sent after `welcome`
  let selected = null;
  let connected = false;
  let welcomed = false;
  let everConnected = false;
  let skew = 0; // server clock minus ours, from `pong`
  let noticeTimer;
  const now = () => Date.now() + skew;
  const notifier = createNotifier();
  const badge = createTabBadge();

  // -- header ---------------------------------------------------------------------------------
  const toggle = h('button', { type: 'button', class: 'status-toggle', 'data-testid': 'status-toggle', onclick: toggleStatus });
  const meEl = h('span', { class: 'me', 'data-testid': 'me' });
  const conn = h('span', { class: 'conn', 'data-testid': 'conn', role: 'status' });
  const mute = h('button', {
    type: 'button', class: 'mute', 'data-testid': 'mute', 'aria-pressed': String(notifier.muted), ...T('mute'),
    onclick() {
      notifier.setMuted(!notifier.muted);
      mute.setAttribute('aria-pressed', String(notifier.muted));
    },
  });
  const logout = h('button', { type: 'button', class: 'logout', 'data-testid': 'logout', onclick: doLogout, ...T('logout') });
  const notice = h('p', { class: 'notice', 'data-testid': 'notice', role: 'status', hidden: true });
  // Why this agent stopped getting chats (a `status` frame's reason), until they accept again.
  const missed = h('p', { class: 'notice', 'data-testid': 'missed-chat', role: 'alert', hidden: true });
  const canned = createCanned({ request: auth.request, isAdmin: () => me.role === 'admin' });
  // The admin's threshold for colouring a chat red, from `welcome` (it can change between logins).
  const redAfterMs = () => {
    const s = me.settings && Number(me.settings.wait_threshold_s);
    return (s > 0 ? s : DEFAULT_WAIT_S) * 1e3;
  };
  const state = () => ({ chats, invitations, selected, accepting, redAfterMs: redAfterMs() });
  // Admins: the team's active chats to supervise, under the lists (team_chats.js).
  const team = me.role === 'admin'
    ? createTeamChats({ request: auth.request, supervise: (id) => supervise(id), listed: (id) => chats.has(id) })
    : null;
  const list = createChatList({ state, now, select, accept, inviteReply, tail: team });
  // Whenever the list changes, so may the count in the tab title and the favicon.
  const renderList = list.render;
  list.render = () => {
    renderList();
    renderUnread();
  };
  const menu = createMoreMenu({
    team: () => auth.request('GET', '/agent/team'),
    groups: () => auth.request('GET', '/agent/groups'),
    me: () => me,
    transfer,
    transferGroup,
    invite,
    close: closeChat,
    ban: (cs) => extra.ban(cs),
    createTicket,
  });
  // The tag list every section shares (tags.js): the chat's and tickets' pickers, filters, Admin › Tags.
  const tagStore = createTagStore(auth.request);
  const files = createChatFiles({ request: auth.request, flash: (text) => flash(text) });
  const panel = createVisitorPanel({ request: auth.request, isAdmin: () => me.role === 'admin', flash: (text) => flash(text), tags: tagStore, files });
  const conv = createConversation({
    send, sendFile, files, back: () => select(null), input: composerInput, menu, panel, canned, tags: tagStore, request: auth.request,
    join, unsupervise,
    onInfo: (on) => app.setAttribute('data-info', on ? 'open' : 'closed'),
  });
  const layout = h('main', { class: 'layout' }, list.el, conv.el, panel.el);
  // The Admin section (admins only), Account (everyone) and the Ban visitor dialog: admin.js.
  const extra = createAdminSections({
    auth, me: () => me, isAdmin: me.role === 'admin', flash: (text) => flash(text), tags: tagStore,
    renamed(name) { me.name = name; renderMe(); }, showVisitors: () => showSection('visitors'),
  });

  // The sections, in menu order: name -> a factory of {el, show(on), destroy()?}, called on the first
  // open, so a section nobody opens costs no element, request or timer. The header tabs (`<name>-tab`,
  // with the name's label), the page, showSection() and destroy() all follow this one table.
  const factories = {
    chats: () => ({ el: layout, show: (on) => show(layout, on) }),
    visitors: () => createVisitorsView({ request: auth.request, isAdmin: () => me.role === 'admin', now, flash, supervise }), // who is on the site now
    tickets: () => createTicketsView({ request: auth.request, me: () => me, flash, tags: tagStore }),
    archive: () => createArchiveView({
      request: auth.request, api: runtime.api, isAdmin: () => me.role === 'admin', flash, createTicket: (id) => createTicket({ id }), tags: tagStore, files,
    }),
    reports: () => createReportsView({ request: auth.request, api: runtime.api, isAdmin: () => me.role === 'admin', flash, tags: tagStore }),
    ...extra.sections, // admin (admins only), account
  };
  const sections = {};
  const section = (key) => {
    if (!sections[key]) {
      sections[key] = factories[key]();
      app.append(sections[key].el);
    }
    return sections[key];
  };
  const tabs = {};
  for (const key of Object.keys(factories)) {
    tabs[key] = h('button', {
      type: 'button', class: 'tab', 'data-testid': key + '-tab', 'aria-pressed': String(key === 'chats'), ...T(key),
      onclick: () => showSection(key),
    });
  }
  // One row from 1,280 px. Narrower, the account tools (and on phones the sections too) fold into the
  // menu behind `top-menu`, so the bar keeps to one row at every width.
  const menuBtn = h('button', {
    type: 'button', class: 'top-menu-btn', 'data-testid': 'top-menu', 'aria-expanded': 'false', 'aria-controls': 'top-menu',
    ...L('menu'), onclick: () => openMenu(menuBtn.getAttribute('aria-expanded') !== 'true'),
  });
  const unreadAll = h('span', { class: 'unread top-unread', 'data-testid': 'unread-total', hidden: true });
  const tools = h('div', { class: 'top-tools' }, meEl, canned.button, mute, langSelect, logout);
  const nav = h('nav', { class: 'tabs', ...L('sections') }, ...Object.values(tabs));
  const header = h('header', { class: 'top' },
    h('h1', { class: 'brand', text: 'Charla' }), toggle,
    h('div', { class: 'top-menu', id: 'top-menu' }, nav, h('span', { class: 'spacer' }), conn, tools),
    unreadAll, menuBtn);
  const reconnecting = h('p', { class: 'reconnecting', 'data-testid': 'reconnecting', role: 'status', hidden: true });
  const app = h('div', { class: 'console', 'data-view': 'list', 'data-section': 'chats' }, header, reconnecting, notice, missed);
  root.replaceChildren(app);
  section('chats');
  const onKey = (e) => {
    if (e.key !== 'Escape') return;
    if (menuBtn.getAttribute('aria-expanded') === 'true') {
      openMenu(false);
      menuBtn.focus();
    } else if (app.getAttribute('data-info') === 'open') {
      conv.info(false);
    }
  };
  const onOutside = (e) => {
    if (!header.contains(e.target)) openMenu(false);
  };
  document.addEventListener('keydown', onKey);
  document.addEventListener('pointerdown', onOutside, true);

  const sock = createSocket({
    url: () => runtime.ws,
    ticket: async () => (await auth.request('POST', '/agent/ws-ticket')).ticket,
    onFrame,
    onState(s) {
      connected = s === 'open';
      renderConn();
    },
  });

  const tick = setInterval(() => {
    for (const cs of chats.values()) {
      if (cs.peek && Date.now() - cs.peek.at > PEEK_STALE_MS) {
        cs.peek = null;
        if (cs.id === selected) conv.peek();
      }
    }
    list.render();
  }, TICK_MS);
  const onVisible = () => {
    const cs = chats.get(selected);
    if (cs && document.visibilityState === 'visible') {
      markRead(cs);
      list.render();
    }
  };
  document.addEventListener('visibilitychange', onVisible);
  const offLang = onLang(() => {
    for (const cs of chats.values()) reLines(cs.list);
    renderStatus();
    renderConn();
    list.render();
    conv.update();
  });

  renderMe();
  renderStatus();
  renderConn();
  list.render();
  sock.start();
  canned.load();
  // The queue's group filter; a team without groups never shows it.
  auth.request('GET', '/agent/groups').then((r) => list.setGroups((r && r.groups) || [],
    (g) => me.role === 'admin' || (g.members || []).includes(me.id)), () => {});

  // -- frames ---------------------------------------------------------------------------------

  // A control needing the socket never drops a click: while it is down the frame waits (the latest
  // per action and chat) and goes after the next `welcome`, which brings the state it applies to.
  function out(frame) {
    const key = frame.action + ':' + (frame.chat_id || '');
    if (RETRYABLE.includes(frame.action)) lastFrames.set(key, frame);
    if (connected && sock.send(frame)) return;
    waiting.set(key, frame);
  }

  function onFrame(f) {
    switch (f.type) {
      case 'welcome': return welcome(f);
      case 'pong':
        if (f.ts && !isNaN(Date.parse(f.ts))) skew = Date.parse(f.ts) - Date.now();
        return;
      case 'chat':
        // A section not opened yet has nothing to update: it loads fresh when first shown.
        if (sections.visitors) sections.visitors.chat(f.chat);
        if (team) team.soon();
        return upsert(f.chat, true);
      case 'visitor': return sections.visitors && sections.visitors.frame(f.visitor);
      // Team-wide news gathered over a few seconds (docs/protocol.md): each inner frame as if sent alone.
      case 'notices': return (Array.isArray(f.frames) ? f.frames : []).forEach((n) => n && n.type !== 'notices' && onFrame(n));
      case 'ticket': return sections.tickets && sections.tickets.frame(f);
      case 'canned': return canned.frame(f);
      case 'message': return addMessage(f.chat_id, f.message, true);
      case 'messages': return page(f);
      case 'ack': return ack(f);
      case 'supervising': return watching(f.chat);
      case 'typing': return typing(f);
      case 'status':
        me.accepting = !!f.accepting;
        if (f.reason === 'missed_chat') {
          const cs = chats.get(f.chat_id);
          missed.textContent = t('missedChat', { name: cs ? visitorName(cs.chat) : t('visitor') });
          show(missed, true);
        }
        if (me.accepting) show(missed, false);
        return renderStatus();
      case 'invitation':
        if (!f.chat_id) return;
        invited({ chat_id: f.chat_id, from: f.from || null, chat: f.chat || null }, true);
        return list.render();
      case 'read': {
        const cs = chats.get(f.chat_id);
        if (cs && typeof f.seq === 'number') readTo(cs, f.seq);
        return list.render();
      }
      case 'error': return onError(f);
    }
  }

  function welcome(f) {
    if (f.me) {
      me = { ...me, ...f.me };
      renderMe();
      renderStatus();
    }
    // Invitations still open; the rest were withdrawn or their chats ended meanwhile.
    const open = new Set();
    for (const c of f.invitations || []) {
      if (!c || !c.chat_id) continue;
      open.add(c.chat_id);
      invited({ chat_id: c.chat_id, from: null, chat: c }, welcomed);
    }
    for (const id of Array.from(invitations.keys())) if (!open.has(id)) invitations.delete(id);
    welcomed = true;
    const seen = new Set();
    for (const c of f.chats || []) {
      if (!c || !c.chat_id) continue;
      seen.add(c.chat_id);
      upsert(c, false);
    }
    // Whatever is missing ended (or moved on) while this tab was disconnected.
    for (const cs of Array.from(chats.values())) {
      if (seen.has(cs.id)) continue;
      if (cs.kind === 'mine') cs.chat = { ...cs.chat, status: 'closed' };
      // Watching belongs to a connection: the new one watches again (its `supervising` resumes the chat).
      else if (cs.kind === 'watch' && cs.chat.status !== 'closed') out({ action: 'supervise', chat_id: cs.id });
      else if (cs.kind !== 'watch') drop(cs);
    }
    for (const cs of chats.values()) {
      if (cs.kind !== 'mine') continue;
      if (cs.chat.status !== 'closed') resume(cs);
      // A chat that closed meanwhile still gets its unacknowledged replies: the server acks one it
      // stored before the close and refuses the rest (`conflict`), which marks them Not sent.
      flush(cs);
    }
    for (const frame of Array.from(waiting.values())) {
      waiting.delete(frame.action + ':' + (frame.chat_id || ''));
      out(frame);
    }
    sock.send({ action: 'ping' }); // the pong's timestamp calibrates the red/green clock
    list.render();
    conv.update();
  }

  function newState(c) {
    const ol = h('ol', { class: 'transcript', 'data-testid': 'transcript', 'aria-live': 'polite' });
    const cs = {
      id: c.chat_id, chat: c, kind: null, list: ol, tr: null,
      unread: 0, readSeq: 0, readTimer: null, draft: '', peek: null, awaiting: null, loaded: false, resuming: false,
    };
    cs.tr = createTranscript(ol, (m) => renderMessage(cs, m));
    cs.typing = typingNotifier((on) => cs.chat.status !== 'closed' && sock.send({ action: 'typing', chat_id: cs.id, typing: on }), 3000, 5000);
    return cs;
  }

  function upsert(c, live) {
    if (!c || !c.chat_id) return;
    let cs = chats.get(c.chat_id);
    const mine = (c.agents || []).some((a) => a && a.id === me.id);
    const kind = mine ? 'mine' : cs && cs.kind === 'watch' ? 'watch' : c.status === 'queued' ? 'queue' : null;
    if (!kind) {
      // Taken by someone else, transferred away, or closed while still queued.
      if (cs) {
        if (cs.kind === 'mine') {
          const to = transferring.get(cs.id);
          flash(to ? t('transferredTo', { name: to }) : t('transferred'));
        }
        drop(cs);
        list.render();
      }
      accepting.delete(c.chat_id);
      transferring.delete(c.chat_id);
      return;
    }
    // A closed chat this tab no longer lists (e.g. rated after the agent moved on) stays gone.
    if (!cs && c.status === 'closed') return;
    if (mine) invitations.delete(c.chat_id);
    const isNew = !cs;
    if (!cs) chats.set(c.chat_id, (cs = newState(c)));
    const became = kind === 'mine' && cs.kind !== 'mine';
    const wasLeft = !isNew && presenceOf(cs, now()) === 'left';
    cs.kind = kind;
    cs.chat = c;
    if (typeof c.read_seq === 'number') readTo(cs, c.read_seq);
    if (wasLeft && !c.visitor_left_at) cs.backAt = now();
    cs.awaiting = c.status === 'closed' ? null : c.awaiting_reply_since || null;
    const name = visitorName(c);
    if (became && live) {
      resume(cs);
      if (accepting.delete(c.chat_id)) {
        select(c.chat_id);
        conv.focus();
      } else {
        notifier.notify(t('newChat'), t('waitingNow', { name }), c.chat_id, () => select(c.chat_id));
      }
    } else if (isNew && live && kind === 'queue') {
      notifier.notify(t('newChat'), t('waitingNow', { name }), c.chat_id);
    }
    if (c.status === 'closed') cs.typing.stop();
    if (kind === 'watch' && c.status === 'closed' && live) flash(t('supervisedEnded'));
    if (cs.id === selected) conv.update();
    list.render();
  }

  function drop(cs) {
    chats.delete(cs.id);
    cs.typing.stop();
    if (selected === cs.id) {
      selected = null;
      conv.show(null);
      app.setAttribute('data-view', 'list');
    }
  }

  function resume(cs, after) {
    cs.resuming = true;
    out({ action: 'resume', chat_id: cs.id, after_seq: after != null ? after : cs.tr.lastSeq });
  }

  // Our unacknowledged messages go again after a reconnect; the same client_msg_id makes it safe.
  function flush(cs) {
    for (const p of cs.tr.pending()) if (!p.uploading) sock.send(sendFrame(cs, p));
  }

  // A reply, a file or a whisper (docs/protocol.md), as the pending entry says.
  function sendFrame(cs, p) {
    if (p.kind === 'whisper') return { action: 'whisper', chat_id: cs.id, client_msg_id: p.id, text: p.text };
    return { action: 'send', chat_id: cs.id, client_msg_id: p.id, ...(p.file ? { file_id: p.file.file_id } : { text: p.text }) };
  }

  function page(f) {
    const cs = chats.get(f.chat_id);
    if (!cs) return;
    const stick = cs.id === selected && conv.nearBottom();
    for (const m of f.messages || []) addMessage(cs.id, m, false);
    if (f.next_after != null) return resume(cs, f.next_after);
    cs.resuming = false;
    cs.loaded = true;
    if (cs.tr.gap && (f.messages || []).length) resume(cs);
    markRead(cs);
    if (stick) conv.scrollDown();
    list.render();
  }

  function addMessage(chatId, m, live) {
    const cs = chats.get(chatId);
    if (!cs || (cs.kind !== 'mine' && cs.kind !== 'watch') || !m) return;
    const stick = cs.id === selected && conv.nearBottom();
    if (!cs.tr.add(m)) return;
    if (cs.tr.last.seq === m.seq) {
      // Mirrors the server: the visitor's message starts the clock, an agent's answer stops it.
      if (m.sender === 'visitor') cs.awaiting = cs.awaiting || m.ts || new Date(now()).toISOString();
      else if (m.sender === 'agent') cs.awaiting = null;
      if (m.sender === 'visitor') cs.peek = null;
    }
    // Unread: from someone else, past the agent's read position (kept on the server), not in view.
    if (cs.kind === 'mine' && fromOthers(m) && m.seq > cs.readSeq && !inView(cs)) {
      cs.unread++;
      if (cs.loaded) {
        const name = m.sender === 'visitor' ? visitorName(cs.chat) : m.sender_name || t('visitor');
        notifier.notify(t('newMessage', { name }), String(m.text || '').slice(0, 140), cs.id, () => select(cs.id));
      }
    }
    if (live) markRead(cs);
    if (live && cs.tr.gap && !cs.resuming) resume(cs);
    if (cs.id === selected) {
      conv.peek();
      if (stick) conv.scrollDown();
    }
    if (live) list.render();
  }

  function ack(f) {
    const cs = chats.get(f.chat_id);
    if (!cs || !cs.tr.ack(f.client_msg_id, f.seq, f.ts)) return;
    cs.awaiting = null;
    markRead(cs);
    list.render();
  }

  function typing(f) {
    const cs = chats.get(f.chat_id);
    if (!cs) return;
    cs.peek = f.typing ? { from: f.from, name: f.name, draft: typeof f.draft === 'string' ? f.draft : '', at: Date.now() } : null;
    if (cs.id === selected) conv.peek();
  }

  function onError(f) {
    if (f.retriable) {
      const key = f.client_msg_id || f.action + ':' + (f.chat_id || '');
      let frame = lastFrames.get(key);
      if (f.client_msg_id) {
        const cs = chats.get(f.chat_id);
        const p = cs && cs.tr.pending().find((x) => x.id === f.client_msg_id);
        frame = p && !p.uploading && sendFrame(cs, p);
      }
      if (frame) sock.retry(key, frame);
      return;
    }
    const cs = f.chat_id && chats.get(f.chat_id);
    if (f.code === 'already_taken' && cs && cs.kind === 'queue') drop(cs);
    if (f.action === 'accept' || f.action === 'invite_reply') accepting.delete(f.chat_id);
    if (f.action === 'transfer') transferring.delete(f.chat_id);
    if (f.code === 'too_long' && f.client_msg_id && cs) {
      // Hand the text back so it can be shortened rather than retyped.
      const p = cs.tr.drop(f.client_msg_id);
      if (p && !cs.draft && !(cs.id === selected && conv.draft)) {
        cs.draft = p.text;
        if (cs.id === selected) conv.show(cs);
      }
    } else if (f.client_msg_id && cs) {
      const p = cs.tr.pending().find((x) => x.id === f.client_msg_id);
      const el = cs.tr.fail(f.client_msg_id);
      if (el && p) {
        for (const n of el.querySelectorAll('.pending-note')) n.remove();
        // In a closed chat there is nowhere to send it again.
        const again = cs.chat.status === 'closed' ? []
          : [' ', h('button', { type: 'button', class: 'link', 'data-testid': 'resend', ...T('resend'), onclick: () => resend(cs, el, p) })];
        el.append(h('span', { class: 'failed' }, h('span', T('notSent')), ...again));
      }
    }
    if (f.action === 'resume' && f.code === 'not_found' && cs) drop(cs);
    // Watching again after a reconnect is refused once the chat ended (or the admin was demoted).
    if (f.action === 'supervise' && cs && cs.kind === 'watch') {
      if (f.code === 'conflict') cs.chat = { ...cs.chat, status: 'closed' };
      else drop(cs);
      if (cs.id === selected) conv.update();
    }
    if (f.action === 'set_status') renderStatus();
    const why = t.has(f.code) ? t(f.code) : f.message || t('generic');
    if (f.action === 'transfer' || f.action === 'invite') {
      // The server's English names the problem ("Ana is not online"); another language gets the code's text.
      flash(t(f.action === 'transfer' ? 'transferFailed' : 'inviteFailed', { reason: (lang() === 'en' && f.message) || why }));
    } else {
      flash(why);
    }
    list.render();
  }

  // -- actions ---------------------------------------------------------------------------------

  function select(id) {
    if (selected === id) return;
    const prev = selected && chats.get(selected);
    if (prev) {
      prev.draft = conv.draft;
      prev.typing.stop();
      if (prev.chat.status === 'closed') chats.delete(prev.id); // a closed chat leaves the list once left
    }
    const cs = id ? chats.get(id) : null;
    selected = cs ? cs.id : null;
    // The view switches first: on a phone the chat is laid out only then, so it can open at its newest message.
    app.setAttribute('data-view', cs ? 'chat' : 'list');
    conv.show(cs);
    if (cs) {
      cs.unread = 0;
      markRead(cs);
    }
    list.render();
  }

  function inView(cs) {
    return cs.id === selected && document.visibilityState === 'visible';
  }

  function fromOthers(m) {
    return m.sender === 'visitor' || (m.sender === 'agent' && m.sender_id !== me.id);
  }

  // A chat in view is read up to its last message; the position goes to the server (debounced), which
  // keeps it for a reload and tells the agent's other tabs (`read`).
  function markRead(cs) {
    if (!inView(cs)) return;
    cs.unread = 0;
    const seq = cs.tr.lastSeq;
    if (seq <= cs.readSeq) return;
    cs.readSeq = seq;
    clearTimeout(cs.readTimer);
    cs.readTimer = setTimeout(() => chats.has(cs.id) && out({ action: 'read', chat_id: cs.id, seq: cs.readSeq }), READ_DELAY_MS);
  }

  // Another tab (or the server's `welcome`) says the agent read further: count again from there.
  function readTo(cs, seq) {
    if (!(seq > cs.readSeq)) return;
    cs.readSeq = seq;
    cs.unread = cs.tr.messages().filter((m) => fromOthers(m) && m.seq > seq).length;
  }

  function renderUnread() {
    let n = invitations.size;
    for (const cs of chats.values()) if (cs.kind === 'mine') n += cs.unread;
    badge.set(n);
    unreadAll.textContent = n;
    unreadAll.setAttribute('aria-label', t('unread', { n }));
    show(unreadAll, n > 0);
  }

  // Until acknowledged a reply says so: "Sending…", or while the socket is down "Not sent yet" (CSS
  // picks one by the console's data-conn); flush() sends it again after the next `welcome`.
  function send(cs, text, whisper = false, id = rid(), file = null) {
    const kind = file ? 'file' : whisper ? 'whisper' : 'text';
    const msg = { sender: 'agent', sender_id: me.id, sender_name: me.name, text, kind, ...(file ? { file } : {}) };
    const el = cs.tr.pend(id, msg);
    el.append(h('span', { class: 'pending-note now', ...T('sending') }), h('span', { class: 'pending-note later', 'data-testid': 'unsent', ...T('unsent') }));
    if (!file) {
      cs.draft = '';
      cs.typing.stop();
    }
    if (connected) sock.send(sendFrame(cs, { id, ...msg }));
    conv.scrollDown();
  }

  // A file shows as "Uploading…" until S3 has it, then is sent like a reply (and resent like one).
  async function sendFile(cs, f) {
    const id = rid();
    const el = cs.tr.pend(id, { sender: 'agent', sender_id: me.id, sender_name: me.name, text: f.name, uploading: true });
    el.append(h('span', { class: 'pending-note', 'data-testid': 'uploading', ...T('uploading') }));
    conv.scrollDown();
    try {
      const file = await files.upload(cs.id, f);
      cs.tr.drop(id);
      send(cs, file.name, false, id, file);
    } catch (e) {
      cs.tr.drop(id);
      files.failed(f.name, e);
    }
  }

  // Under its first client_msg_id: however often it is sent, the server stores it once.
  function resend(cs, el, p) {
    el.remove();
    send(cs, p.text, p.kind === 'whisper', p.id, p.file);
  }

  function composerInput(text) {
    const cs = chats.get(selected);
    // A whisper is not typed to the visitor: no typing indicator while whispering.
    if (cs && cs.chat.status !== 'closed' && !conv.whispering) cs.typing.input(text);
  }

  // Supervision (admins): watch a chat silently, then join it or stop. The server's `supervising`
  // frame opens the chat here (watching()); after a join its `chat` frame lists this agent, and
  // upsert() makes it one of theirs, selected as an accepted chat is.
  function supervise(chatId) {
    const cs = chats.get(chatId);
    if (cs && (cs.kind === 'mine' || cs.kind === 'watch')) {
      showSection('chats');
      return select(chatId);
    }
    out({ action: 'supervise', chat_id: chatId });
  }

  function watching(c) {
    if (!c || !c.chat_id) return;
    let cs = chats.get(c.chat_id);
    if (cs && cs.kind === 'mine') return;
    if (!cs) chats.set(c.chat_id, (cs = newState(c)));
    const fresh = cs.kind !== 'watch';
    cs.kind = 'watch';
    cs.chat = c;
    resume(cs);
    if (fresh) {
      showSection('chats');
      select(cs.id);
    }
    if (cs.id === selected) conv.update();
    list.render();
  }

  function join(cs) {
    accepting.add(cs.id);
    out({ action: 'join', chat_id: cs.id });
  }

  function unsupervise(cs) {
    out({ action: 'unsupervise', chat_id: cs.id });
    drop(cs);
    list.render();
    if (team) team.load();
  }

  function closeChat(cs) {
    if (cs) out({ action: 'close', chat_id: cs.id });
  }

  // The server answers with a `chat` frame that no longer lists this agent; upsert() drops it then.
  function transferGroup(cs, group) {
    out({ action: 'transfer', chat_id: cs.id, to_group_id: group.id });
    transferring.set(cs.id, group.name);
  }

  function transfer(cs, agent) {
    out({ action: 'transfer', chat_id: cs.id, to_agent_id: agent.id });
    transferring.set(cs.id, agent.name || agent.email || '');
  }

  // Nothing answers an invitation until the invitee replies; errors (offline, already in) do.
  function invite(cs, agent) {
    out({ action: 'invite', chat_id: cs.id, agent_id: agent.id });
    flash(t('inviteSent', { name: agent.name || agent.email || '' }));
  }

  function invited(inv, news) {
    const known = invitations.get(inv.chat_id);
    invitations.set(inv.chat_id, { ...known, ...inv, from: inv.from || (known && known.from) || null });
    if (!news || known) return;
    const name = inv.from && inv.from.name;
    notifier.notify(name ? t('invitedBy', { name }) : t('invitedTo'), inv.chat ? visitorName(inv.chat) : '', 'invite-' + inv.chat_id);
  }

  function accept(id) {
    out({ action: 'accept', chat_id: id });
    accepting.add(id);
    list.render();
  }

  function inviteReply(id, yes) {
    out({ action: 'invite_reply', chat_id: id, accept: yes });
    invitations.delete(id);
    if (yes) accepting.add(id);
    list.render();
  }

  // The toggle flips what the agent sees now; a second click before the answer flips it back.
  function toggleStatus() {
    const frame = waiting.get('set_status:');
    const want = frame ? !frame.accepting : !me.accepting;
    if (frame && want === !!me.accepting) {
      waiting.delete('set_status:');
      return renderStatus();
    }
    out({ action: 'set_status', accepting: want });
    toggle.textContent = t(want ? 'accepting' : 'notAccepting');
    toggle.setAttribute('data-accepting', String(want));
    toggle.setAttribute('aria-busy', 'true');
  }

  function showSection(key) {
    openMenu(false);
    app.setAttribute('data-section', key);
    section(key);
    for (const [k, tab] of Object.entries(tabs)) tab.setAttribute('aria-pressed', String(k === key));
    for (const [k, s] of Object.entries(sections)) s.show(k === key);
    if (key === 'chats' && team) team.load(); // chats started meanwhile, without a frame to this admin
  }

  function openMenu(on) {
    menuBtn.setAttribute('aria-expanded', String(on));
    app.setAttribute('data-menu', on ? 'open' : 'closed');
  }

  // More → Create ticket (a chat has at most one; asking again returns it).
  async function createTicket(cs) {
    try {
      const tk = await auth.request('POST', '/agent/chats/' + encodeURIComponent(cs.id) + '/ticket', {});
      // The agent stays in the chat (others may be waiting); the notice links to the ticket.
      flash(t('ticketCreated', { ref: tk.ref }), h('button', {
        type: 'button', class: 'link', 'data-testid': 'ticket-link', 'data-ticket-id': tk.ticket_id, text: t('openTicket', { ref: tk.ref }),
        onclick() {
          show(notice, false);
          showSection('tickets');
          section('tickets').open(tk.ticket_id, tk);
        },
      }));
    } catch (e) {
      flash(t('ticketFailed', { reason: errorText(e) }));
    }
  }

  function doLogout() {
    destroy();
    auth.logout();
    onLogout();
  }

  // -- rendering -------------------------------------------------------------------------------

  function renderMessage(cs, m) {
    const who = m.sender === 'visitor' || m.sender === 'agent' ? m.sender : 'system';
    // A whisper (agents only) is marked as such, so nobody takes it for something the visitor read.
    const whisper = m.kind === 'whisper';
    const el = h('li', {
      class: 'msg ' + who + (who === 'agent' && m.sender_id === me.id ? ' mine' : '') + (whisper ? ' whisper' : ''),
      'data-testid': 'message', 'data-sender': who, 'data-kind': whisper ? 'whisper' : who === 'system' ? 'system' : m.kind === 'file' ? 'file' : 'text',
    });
    if (who !== 'system') {
      const name = m.sender_name || (who === 'visitor' ? visitorName(cs.chat) : t('agent'));
      el.append(h('span', { class: 'meta' }, h('span', { class: 'who', dir: 'auto', text: name }),
        whisper ? h('span', { class: 'whisper-mark', 'data-testid': 'whisper-mark', ...T('whisperMark') }) : null, m.ts ? clock(m.ts) : null));
    }
    el.append(m.kind === 'file' && m.file && m.file.file_id ? files.render(cs.id, m.file) : lineSpan(m));
    return el;
  }

  function renderMe() {
    meEl.textContent = me.name || me.email || '';
  }

  function renderStatus() {
    const on = !!me.accepting;
    toggle.textContent = t(on ? 'accepting' : 'notAccepting');
    toggle.setAttribute('data-accepting', String(on));
    toggle.removeAttribute('aria-busy');
  }

  // Down after having been up is an outage: a full-width bar, and the status toggle greys out (the
  // server no longer counts this tab as present).
  function renderConn() {
    if (connected) everConnected = true;
    conn.textContent = t(connected ? 'connected' : 'connecting');
    conn.setAttribute('data-state', connected ? 'open' : 'closed');
    app.setAttribute('data-conn', connected ? 'open' : 'closed');
    reconnecting.textContent = t(everConnected ? 'reconnecting' : 'connecting');
    show(reconnecting, !connected);
  }

  // A notice, with an optional control after the text (kept up longer so it can be reached).
  function flash(text, action) {
    notice.replaceChildren(text, ...(action ? [' ', action] : []));
    show(notice, true);
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => show(notice, false), action ? 30e3 : 8e3);
  }

  function destroy() {
    for (const cs of chats.values()) cs.typing.stop();
    sock.stop();
    clearInterval(tick);
    clearTimeout(noticeTimer);
    document.removeEventListener('visibilitychange', onVisible);
    offLang();
    list.destroy();
    if (team) team.destroy();
    notifier.destroy();
    badge.destroy();
    for (const cs of chats.values()) clearTimeout(cs.readTimer);
    menu.hide(false);
    panel.destroy();
    canned.destroy();
    files.destroy();
    for (const s of Object.values(sections)) if (s.destroy) s.destroy();
    document.removeEventListener('keydown', onKey);
    document.removeEventListener('pointerdown', onOutside, true);
    extra.destroy();
  }

  return { destroy };
}
