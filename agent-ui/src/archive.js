// The Archive section: every chat, newest first (GET /agent/archive), searched by words (every word, the
// last as a prefix, ignoring case and accents) and filtered by status, agent, rating, tag and dates, with
// "Load more" following next_cursor. A result shows its matching line; opening it shows the whole
// transcript (visitor.js's reader) beside the visitor panel, with Create ticket. Admins export the list
// as CSV. Everything from visitors (names, lines) is text only.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, P, onLang, errorText } from './i18n.js';
import { createVisitorPanel, readTranscript } from './visitor.js';
import { visitorLabel } from './chatlist.js';
import { when } from './tickets.js';
import { chipsOf, tagFilter } from './tags.js';
import { downloadCsv } from './download.js';

const PAGE = 25;

export function createArchiveView({ request, api, isAdmin, flash, createTicket, tags, files }) {
  let items = [];
  let cursor = null;
  let req = 0; // answers to an older list request are ignored
  let current = null; // the open chat
  let teamLoaded = false;

  const search = h('input', { type: 'search', class: 'ticket-search', 'data-testid': 'archive-search', ...P('archiveSearch'), ...L('archiveSearch') });
  const status = h('select', { class: 'ticket-filter', 'data-testid': 'archive-status-filter', ...L('archiveStatus'), onchange: () => load() },
    h('option', { value: '', ...T('archiveAnyStatus') }), h('option', { value: 'closed', ...T('archiveClosed') }), h('option', { value: 'open', ...T('archiveOpen') }));
  const agent = h('select', { class: 'ticket-filter', 'data-testid': 'archive-agent-filter', ...L('archiveAgent'), onchange: () => load() },
    h('option', { value: '', ...T('assigneeAnyone') }), h('option', { value: 'me', ...T('assigneeMe') }));
  const rating = h('select', { class: 'ticket-filter', 'data-testid': 'archive-rating-filter', ...L('archiveRating'), onchange: () => load() },
    h('option', { value: '', ...T('archiveAnyRating') }), h('option', { value: 'good', ...T('ratedGood') }),
    h('option', { value: 'bad', ...T('ratedBad') }), h('option', { value: 'none', ...T('archiveUnrated') }));
  // Chats with one tag; the options follow the shared tag list (tags.js).
  const tagSelect = tagFilter(tags, { 'data-testid': 'archive-tag-filter', ...L('archiveTag') }, () => load());
  const tag = tagSelect.el;
  const offTags = tags.on(() => { tagSelect.fill(); render(); });
  tags.ready();
  const from = h('input', { type: 'date', 'data-testid': 'archive-from', ...L('reportFrom'), onchange: () => load() });
  const to = h('input', { type: 'date', 'data-testid': 'archive-to', ...L('reportTo'), onchange: () => load() });
  const csv = h('button', { type: 'button', class: 'tab', 'data-testid': 'archive-csv', hidden: !isAdmin(), ...T('exportCsv'), onclick: download });
  const bar = h('form', { class: 'tickets-bar archive-bar', role: 'search', onsubmit(e) { e.preventDefault(); load(); } },
    search, status, agent, rating, tag, from, to, h('button', { type: 'submit', class: 'tab', 'data-testid': 'archive-go', ...T('searchGo') }), csv);
  const state = h('p', { class: 'info-state', role: 'status', 'data-testid': 'archive-state', hidden: true });
  const list = h('ul', { class: 'ticket-list', 'data-testid': 'archive-list' });
  const more = h('button', { type: 'button', class: 'tab', 'data-testid': 'archive-more', hidden: true, ...T('loadMore'), onclick: () => load(true) });

  // The open chat: its header, Create ticket, the whole transcript, and the visitor panel beside it.
  const title = h('h2', { class: 'archive-title', 'data-testid': 'archive-chat-title' });
  const ticketBtn = h('button', { type: 'button', class: 'tab', 'data-testid': 'archive-create-ticket', ...T('createTicket'), onclick: () => current && createTicket(current.chat_id) });
  const transcript = h('ol', { class: 'history-msgs archive-transcript', 'data-testid': 'archive-transcript' });
  const panel = createVisitorPanel({ request, isAdmin, flash, tags, files });
  const detail = h('div', { class: 'archive-detail', 'data-testid': 'archive-chat', hidden: true },
    h('div', { class: 'archive-head' }, title, ticketBtn), transcript);
  // The transcript and its visitor panel, once a chat is opened (an empty panel says nothing).
  const right = h('div', { class: 'archive-right', hidden: true }, detail, panel.el);
  const el = h('section', { class: 'tickets-view archive-view', 'data-testid': 'archive-view', ...L('archive'), hidden: true },
    h('div', { class: 'tickets-left' }, bar, state, list, more), right);
  const offLang = onLang(render);

  function query(after) {
    const p = new URLSearchParams({ limit: String(PAGE) });
    const q = search.value.trim();
    if (q) p.set('q', q);
    for (const [name, input] of [['status', status], ['agent', agent], ['rating', rating], ['from', from], ['to', to]]) {
      if (input.value) p.set(name, input.value);
    }
    if (tag.value) p.set('tag', tag.value);
    if (after) p.set('cursor', after);
    return p;
  }

  async function load(append) {
    const mine = ++req;
    if (!append) setState(t('loading'));
    more.disabled = true;
    loadTeam();
    try {
      const r = await request('GET', '/agent/archive?' + query(append ? cursor : null));
      if (mine !== req) return;
      const got = (r && r.chats) || [];
      items = append ? items.concat(got.filter((x) => !items.some((y) => y.chat_id === x.chat_id))) : got;
      cursor = (r && r.next_cursor) || null;
      // A page that read its share of the index may hold nothing yet: "Load more" goes on from there.
      setState(items.length ? '' : t(cursor ? 'archiveKeepLooking' : 'archiveNone'));
    } catch (e) {
      if (mine === req) setState(errorText(e));
    }
    more.disabled = false;
    render();
  }

  async function loadTeam() {
    if (teamLoaded) return;
    teamLoaded = true;
    try {
      const agents = ((await request('GET', '/agent/team')) || {}).agents || [];
      agent.append(...agents.map((a) => h('option', { value: a.id, text: a.name || a.email || a.id })));
    } catch (e) {
      teamLoaded = false;
    }
  }

  const rows = new Map(); // chat_id -> its <li>, kept while listed (a late reload can't swallow a click)
  function row(c) {
    let li = rows.get(c.chat_id);
    if (!li) {
      li = h('li', null, h('button', { type: 'button', class: 'ticket-row archive-row', 'data-testid': 'archive-row', 'data-chat-id': c.chat_id, onclick: () => open(c) }));
      rows.set(c.chat_id, li);
    }
    const b = li.firstChild;
    b.dataset.status = c.status;
    b.setAttribute('aria-current', String(!!current && current.chat_id === c.chat_id));
    const agents = (c.agents || []).map((a) => a.name).filter(Boolean).join(', ');
    // replaceChildren writes a null as the text "null": the parts a row lacks are filtered out.
    b.replaceChildren(...[
      h('span', { class: 'ticket-badge ' + c.status, 'data-testid': 'archive-status', text: t(c.status === 'open' ? 'archiveOpen' : 'archiveClosed') }),
      h('span', { class: 'ticket-subject', dir: 'auto', text: visitorLabel(c.visitor) }),
      c.match ? h('span', { class: 'archive-match', 'data-testid': 'archive-match', dir: 'auto', text: c.match }) : null,
      c.tags && c.tags.length ? h('span', { class: 'tag-chips', 'data-testid': 'archive-row-tags' }, ...chipsOf(tags, c.tags)) : null,
      h('span', { class: 'ticket-meta', text: [when(c.created_at), agents, c.rating ? t(c.rating === 'good' ? 'ratedGood' : 'ratedBad') : ''].filter(Boolean).join(' · ') })].filter(Boolean));
    return li;
  }

  function render() {
    const ids = new Set(items.map((c) => c.chat_id));
    for (const id of rows.keys()) if (!ids.has(id)) rows.delete(id);
    list.replaceChildren(...items.map(row));
    show(more, !!cursor);
    if (current) title.textContent = visitorLabel(current.visitor) + ' · ' + when(current.created_at);
  }

  function open(c) {
    current = c;
    show(right, true);
    show(detail, true);
    transcript.setAttribute('aria-busy', 'true');
    transcript.replaceChildren(h('li', { class: 'info-state', ...T('loading') }));
    readTranscript(request, c, transcript, files);
    panel.show({ id: c.chat_id, chat: c });
    render();
  }

  // The CSV needs the token in a header (download.js).
  async function download() {
    csv.disabled = true;
    try {
      const p = query(null);
      p.delete('limit');
      await downloadCsv(request, api, '/agent/archive/csv?' + p, 'charla-archive.csv');
    } catch (e) {
      flash(t('loadFailed'));
    }
    csv.disabled = false;
  }

  function setState(text) {
    state.textContent = text;
    show(state, !!text);
  }

  let loaded = false;
  return {
    el,
    show(on) {
      show(el, on);
      if (on && !loaded) {
        loaded = true;
        load();
      }
    },
    destroy() {
      offLang();
      offTags();
      panel.destroy();
    },
  };
}
