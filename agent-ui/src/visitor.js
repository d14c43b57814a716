// The right column: who the visitor is, the page they are on, their browser, and a timeline of
// their previous chats, each expandable to its transcript. Everything the visitor's browser
// reported (title, URLs, user agent) is untrusted and goes in as text.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, lang, onLang, lineSpan, reLines } from './i18n.js';
import { parseUserAgent } from './useragent.js';
import { visitorLabel } from './chatlist.js';
import { privacyActions } from './visitor_admin.js';
import { createTagPicker } from './tags.js';

const MAX_PAGES = 20; // of 100 messages each, for one old transcript
const FRESH_MS = 30e3; // a profile this recent is not fetched again when switching chats

export function createVisitorPanel({ request, isAdmin = () => false, flash = () => {}, tags, files }) {
  const fields = {};
  const rows = [
    ['name', 'name'], ['email', 'email'], ['page', 'currentPage'], ['referrer', 'referrer'],
    ['browser', 'browser'], ['language', 'languageLabel'], ['timezone', 'timezone'], ['country', 'country'],
    ['visits', 'visits'],
  ];
  const dl = h('dl', null, ...rows.flatMap(([key, label]) => [
    h('dt', T(label)),
    (fields[key] = h('dd', { 'data-testid': 'visitor-' + key })),
  ]));
  const state = h('p', { class: 'info-state', role: 'status', hidden: true });
  const history = h('ol', { class: 'history', 'data-testid': 'visitor-history' });
  const noHistory = h('p', { class: 'info-state', ...T('noHistory') });
  // Whether the site signed the visitor's identity (functions/identity.py); admins' data tools.
  const identity = h('p', { class: 'identity-note', 'data-testid': 'visitor-identity', hidden: true });
  const tools = h('div', { class: 'privacy-tools' });
  const el = h('aside', { class: 'info', 'data-testid': 'visitor-panel', ...L('visitorInfo') },
    h('h2', T('visitorInfo')), state, identity, dl, tools, h('h2', { class: 'history-title', ...T('previousChats') }), noHistory, history);

  const profiles = new Map(); // visitor_id -> {at, data}
  const transcripts = new Map(); // chat_id -> the rendered <ol>, kept while the tab lives
  const pickers = new Map(); // chat_id -> a past chat's tag picker, kept like its transcript
  const open = new Set(); // expanded history items
  let cur = null;
  let loading = null;

  function visitorId(cs) {
    return cs && cs.chat.visitor && cs.chat.visitor.id;
  }

  function showChat(cs) {
    const changed = visitorId(cs) !== visitorId(cur) || (cs && cur && cs.id !== cur.id);
    cur = cs;
    render();
    if (changed) renderHistory();
    const id = visitorId(cs);
    if (!id) return;
    const p = profiles.get(id);
    if (changed || !p || Date.now() - p.at > FRESH_MS) load(id);
  }

  function load(id) {
    if (loading === id) return;
    loading = id;
    if (!profiles.has(id)) setState(t('loading'));
    request('GET', '/agent/visitors/' + encodeURIComponent(id)).then((data) => {
      profiles.set(id, { at: Date.now(), data: data || {} });
      if (visitorId(cur) === id) {
        setState('');
        render();
        renderHistory();
      }
    }, () => {
      if (visitorId(cur) === id && !profiles.has(id)) setState(t('loadFailed'));
    }).finally(() => { if (loading === id) loading = null; });
  }

  function setState(text) {
    state.textContent = text;
    show(state, !!text);
  }

  function render() {
    show(el, !!cur);
    if (!cur) return;
    const c = cur.chat;
    const p = profiles.get(visitorId(cur));
    const v = (p && p.data.visitor) || {};
    text(fields.name, (c.visitor && c.visitor.name) || v.name || visitorLabel(c.visitor));
    text(fields.email, (c.visitor && c.visitor.email) || v.email);
    fields.page.replaceChildren(...(v.current_url || v.current_title
      ? [v.current_title ? h('span', { class: 'page-title', text: v.current_title }) : null, link(v.current_url)]
      : [t('none')]));
    fields.referrer.replaceChildren(v.referrer ? link(v.referrer) : t('none'));
    const ua = parseUserAgent(v.user_agent);
    text(fields.browser, ua.browser && ua.os ? t('browserOn', ua) : ua.browser || ua.os);
    if (v.user_agent) fields.browser.title = v.user_agent;
    else fields.browser.removeAttribute('title');
    text(fields.language, named(v.language, 'language'));
    text(fields.timezone, v.timezone);
    text(fields.country, named(v.country, 'region'));
    text(fields.visits, v.visits != null ? String(v.visits) : '');
    const claimed = !!(v.name || v.email || (c.visitor && (c.visitor.name || c.visitor.email)));
    // Verified is marked; otherwise a neutral word on where the name came from, not a warning.
    identity.textContent = t(v.verified ? 'verifiedIdentity' : 'claimedIdentity');
    identity.setAttribute('data-verified', String(!!v.verified));
    show(identity, !!p && claimed);
    const id = visitorId(cur);
    if (isAdmin() && tools.getAttribute('data-visitor') !== id) {
      tools.setAttribute('data-visitor', id);
      tools.replaceChildren(privacyActions({ request, flash, visitorId: id }));
    }
  }

  // Rebuilt only when the profile or the chat changes: rebuilding on every chat frame would
  // collapse what the agent expanded and steal focus from the toggles.
  function renderHistory() {
    if (!cur) return;
    const p = profiles.get(visitorId(cur));
    const past = ((p && p.data.chats) || []).filter((x) => x && x.chat_id && x.chat_id !== cur.id);
    show(noHistory, !!p && !past.length);
    history.replaceChildren(...past.map(historyItem));
  }

  function historyItem(c) {
    const id = 'history-' + c.chat_id;
    const body = h('div', { class: 'history-transcript', id, 'data-testid': 'history-transcript', hidden: !open.has(c.chat_id) });
    const when = c.created_at ? new Date(c.created_at) : null;
    const agents = (c.agents || []).map((a) => a && a.name).filter(Boolean).join(', ');
    const btn = h('button', {
      type: 'button', class: 'history-toggle', 'aria-expanded': String(open.has(c.chat_id)), 'aria-controls': id,
      onclick() {
        const on = !open.has(c.chat_id);
        if (on) open.add(c.chat_id);
        else open.delete(c.chat_id);
        btn.setAttribute('aria-expanded', String(on));
        show(body, on);
        if (on) fill(body, c);
      },
    },
    h('span', { class: 'history-when' },
      when && !isNaN(when) ? h('time', { datetime: c.created_at, text: when.toLocaleString(lang(), { dateStyle: 'medium', timeStyle: 'short' }) }) : t('none')),
    h('span', { class: 'history-agents', text: agents || t('noAgent') }),
    c.rating === 'good' || c.rating === 'bad'
      ? h('span', { class: 'history-rating', 'data-rating': c.rating, text: t(c.rating === 'good' ? 'ratedGood' : 'ratedBad') })
      : null);
    if (open.has(c.chat_id)) fill(body, c);
    return h('li', { class: 'history-item', 'data-testid': 'history-item', 'data-chat-id': c.chat_id }, btn, body);
  }

  // Reads the whole old transcript over REST (the WebSocket `resume` is for chats one is in).
  function fill(body, c) {
    let list = transcripts.get(c.chat_id);
    if (!list) {
      list = h('ol', { class: 'history-msgs', 'aria-busy': 'true' }, h('li', { class: 'info-state', ...T('loading') }));
      transcripts.set(c.chat_id, list);
      loadTranscript(c, list);
    }
    // A past chat is tagged as an open one is (its agents, or an admin; others are told no).
    let picker = pickers.get(c.chat_id);
    if (!picker) {
      picker = createTagPicker({
        store: tags, testid: 'history-tags',
        async save(add, remove) {
          const r = await request('PATCH', '/agent/chats/' + encodeURIComponent(c.chat_id) + '/tags', { add, remove });
          c.tags = r.tags;
          return r.tags;
        },
      });
      pickers.set(c.chat_id, picker);
    }
    picker.update(c.tags);
    body.replaceChildren(picker.el, list);
  }

  async function loadTranscript(c, list) {
    if (!(await readTranscript(request, c, list, files))) transcripts.delete(c.chat_id); // try again on the next expand
  }

  const offLang = onLang(() => {
    for (const list of transcripts.values()) reLines(list);
    render();
    renderHistory();
  });

  return {
    el,
    show: showChat,
    update: render,
    destroy: offLang,
  };
}

// Reads a whole old transcript over REST (the WebSocket `resume` is for chats one is in) into `list`;
// false when it could not. Shared with the Archive section (archive.js).
// `files` (chat_files.js) shows a file message as its link or thumbnail; without it, by its name.
export async function readTranscript(request, c, list, files) {
  const items = [];
  let after = 0;
  let ok = true;
  try {
    for (let i = 0; i < MAX_PAGES && after != null; i++) {
      const page = await request('GET', '/agent/chats/' + encodeURIComponent(c.chat_id) + '/messages?after=' + after);
      for (const m of (page && page.messages) || []) items.push(oldMessage(m, c, files));
      after = page ? page.next_after : null;
    }
    list.replaceChildren(...(items.length ? items : [h('li', { class: 'info-state', ...T('noMessages') })]));
  } catch (e) {
    ok = false;
    list.replaceChildren(h('li', { class: 'info-state', ...T('loadFailed') }));
  }
  list.removeAttribute('aria-busy');
  return ok;
}

function oldMessage(m, c, files) {
  const who = m.sender === 'visitor' || m.sender === 'agent' ? m.sender : 'system';
  const whisper = m.kind === 'whisper';
  const li = h('li', { class: 'hmsg ' + who + (whisper ? ' whisper' : ''), 'data-kind': whisper ? 'whisper' : who === 'system' ? 'system' : m.kind === 'file' ? 'file' : 'text' });
  if (whisper) li.append(h('span', { class: 'whisper-mark', 'data-testid': 'whisper-mark', ...T('whisperMark') }), ' ');
  if (who !== 'system') li.append(h('span', { class: 'who', dir: 'auto', text: m.sender_name || (who === 'visitor' ? visitorLabel(c.visitor) : t('agent')) }), ': ');
  li.append(m.kind === 'file' && m.file && m.file.file_id && files ? files.render(c.chat_id, m.file) : lineSpan(m));
  if (m.ts) li.title = new Date(m.ts).toLocaleString(lang());
  return li;
}

function text(el, value) {
  el.textContent = value || t('none');
}

// A URL the visitor's browser reported: a link only for http(s), never sending a referrer or
// handing the new tab a window.opener; anything else stays plain text.
function link(url) {
  if (!url) return '';
  let ok = false;
  try { ok = /^https?:$/.test(new URL(url).protocol); } catch (e) { /* not a URL */ }
  return ok
    ? h('a', { href: url, class: 'url', target: '_blank', rel: 'noopener noreferrer', text: url })
    : h('span', { class: 'url', text: url });
}

// "es-MX" -> "Spanish (Mexico) (es-MX)" in the console's language, where the browser knows it.
function named(code, type) {
  if (!code) return '';
  try {
    const name = new Intl.DisplayNames([lang()], { type }).of(code);
    if (name && name !== code) return name + ' (' + code + ')';
  } catch (e) { /* old browser or not a valid code */ }
  return code;
}
