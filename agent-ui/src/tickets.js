// The Tickets section: the list (GET /agent/tickets, newest first, filters, search, "Load more"
// following next_cursor), kept live by `ticket` frames, and the open ticket (ticket_view.js).
// Subjects, names and emails come from requesters: text only.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, P, lang, onLang } from './i18n.js';
import { createTicketView } from './ticket_view.js';
import { chipsOf, tagFilter } from './tags.js';

export const STATUSES = ['open', 'pending', 'solved', 'spam'];
const PAGE = 25;

export const when = (ts) => {
  const d = new Date(ts);
  return isNaN(d) ? '' : new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
};
export const requesterLabel = (r) => (r && (r.name && r.email ? r.name + ' <' + r.email + '>' : r.name || r.email)) || t('anonymous');

export function createTicketsView({ request, me, flash, tags }) {
  let items = []; // the rows shown, newest first
  let cursor = null;
  let shown = false;
  let loaded = false;
  let req = 0; // answers to an older list request are ignored

  const status = h('select', { class: 'ticket-filter', 'data-testid': 'ticket-status-filter', ...L('ticketStatusFilter'), onchange: () => load() },
    h('option', { value: '', ...T('allButSpam') }), ...STATUSES.map((s) => h('option', { value: s, ...T('status_' + s) })));
  const assignee = h('select', { class: 'ticket-filter', 'data-testid': 'ticket-assignee-filter', ...L('ticketAssigneeFilter'), onchange: () => load() },
    h('option', { value: '', ...T('assigneeAnyone') }), h('option', { value: 'me', ...T('assigneeMe') }));
  // Tickets with one tag (the list's `tag` filter); the options follow the tag list.
  const tagSelect = tagFilter(tags, { 'data-testid': 'ticket-tag-filter', ...L('ticketTagFilter') }, () => load());
  const tag = tagSelect.el;
  const offTags = tags.on(() => { tagSelect.fill(); render(); });
  const search = h('input', { type: 'search', class: 'ticket-search', 'data-testid': 'ticket-search', ...P('ticketSearch'), ...L('ticketSearch') });
  const bar = h('form', { class: 'tickets-bar', role: 'search', onsubmit(e) { e.preventDefault(); load(); } },
    status, assignee, tag, search, h('button', { type: 'submit', class: 'tab', ...T('searchGo') }));
  const state = h('p', { class: 'info-state', role: 'status', hidden: true });
  const list = h('ul', { class: 'ticket-list', 'data-testid': 'ticket-list' });
  const more = h('button', { type: 'button', class: 'tab', 'data-testid': 'ticket-more', hidden: true, ...T('loadMore'), onclick: () => load(true) });
  const view = createTicketView({ request, me, flash, changed, tags });
  const el = h('section', { class: 'tickets-view', 'data-testid': 'tickets-view', ...L('tickets'), hidden: true },
    h('div', { class: 'tickets-left' }, bar, state, list, more), view.el);
  const offLang = onLang(render);

  function query(after) {
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (status.value) p.set('status', status.value);
    if (assignee.value) p.set('assignee', assignee.value);
    if (tag.value) p.set('tag', tag.value);
    const q = search.value.trim();
    if (q) p.set(q.includes('@') ? 'requester' : 'q', q);
    if (after) p.set('cursor', after);
    return '/agent/tickets?' + p;
  }

  async function load(append) {
    const mine = ++req;
    if (!append) setState(t('loading'));
    more.disabled = true;
    try {
      let r = await request('GET', query(append ? cursor : null));
      const got = (r && r.tickets) || [];
      // A tag filter may answer short pages (docs/data-model.md): follow a few to fill this one.
      for (let n = 0; tag.value && r && r.next_cursor && got.length < PAGE && n < 4 && mine === req; n++) {
        r = await request('GET', query(r.next_cursor));
        got.push(...((r && r.tickets) || []));
      }
      if (mine !== req) return;
      items = append ? items.concat(got.filter((x) => !items.some((y) => y.ticket_id === x.ticket_id))) : got;
      cursor = (r && r.next_cursor) || null;
      loaded = true;
      setState(items.length ? '' : t('noTickets'));
    } catch (e) {
      if (mine === req) setState(e.status === 400 ? e.message : t('loadFailed'));
    }
    more.disabled = false;
    render();
  }

  // Would the current filters list this ticket? (A search is left to the server: reload then.)
  function fits(tk) {
    if (status.value ? tk.status !== status.value : tk.status === 'spam') return false;
    if (assignee.value === 'me' && tk.assignee_id !== me().id) return false;
    if (tag.value && !(tk.tags || []).includes(tag.value)) return false;
    return true;
  }

  function upsert(tk) {
    const i = items.findIndex((x) => x.ticket_id === tk.ticket_id);
    if (i >= 0) items.splice(i, 1);
    if (fits(tk)) {
      // Newest first by creation: a changed ticket keeps its place.
      const at = items.findIndex((x) => x.created_at < tk.created_at);
      items.splice(i >= 0 ? i : at < 0 ? items.length : at, 0, tk);
    }
    setState(items.length ? '' : t('noTickets'));
    render();
  }

  function changed(tk) {
    upsert(tk);
  }

  // A row keeps its element while its ticket stays listed, so a reload that lands between a
  // pointer's press and release (a search answering late) cannot swallow the click.
  const rows = new Map(); // ticket_id -> the row's <li>
  function row(tk) {
    let li = rows.get(tk.ticket_id);
    if (!li) {
      li = h('li', null, h('button', {
        type: 'button', class: 'ticket-row', 'data-testid': 'ticket-row', 'data-ticket-id': tk.ticket_id,
        onclick: () => open(tk.ticket_id),
      }));
      rows.set(tk.ticket_id, li);
    }
    const b = li.firstChild;
    b.dataset.status = tk.status;
    b.setAttribute('aria-current', String(view.current() === tk.ticket_id));
    b.replaceChildren(
      h('span', { class: 'ticket-ref', text: '#' + tk.ref }),
      h('span', { class: 'ticket-badge ' + tk.status, text: t('status_' + tk.status) }),
      h('span', { class: 'ticket-subject', text: tk.subject || '' }),
      h('span', { class: 'tag-chips', 'data-testid': 'ticket-row-tags' }, ...chipsOf(tags, tk.tags)),
      h('span', { class: 'ticket-meta', text: requesterLabel(tk.requester) + ' · ' + when(tk.updated_at || tk.created_at) }));
    return li;
  }

  function render() {
    const ids = new Set(items.map((tk) => tk.ticket_id));
    for (const id of rows.keys()) if (!ids.has(id)) rows.delete(id);
    list.replaceChildren(...items.map(row));
    show(more, !!cursor);
  }

  function setState(text) {
    state.textContent = text;
    show(state, !!text);
  }

  function open(id) {
    view.open(id);
    render();
  }

  return {
    el,
    show(on) {
      shown = on;
      show(el, on);
      if (on) load();
    },
    // A `ticket` frame: created or requester_reply.
    frame(f) {
      const tk = f && f.ticket;
      if (!tk || !tk.ticket_id) return;
      if (search.value.trim()) {
        if (shown) load();
      } else upsert(tk);
      if (view.current() === tk.ticket_id) view.reload();
    },
    open(id, tk) {
      if (tk) upsert(tk);
      open(id);
    },
    loaded: () => loaded,
    destroy() {
      offLang();
      offTags();
      view.destroy();
    },
  };
}
