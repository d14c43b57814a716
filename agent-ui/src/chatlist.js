// The left column: the agent's chats, the queue and invitations. On narrow screens the same
// items regroup as New / waiting, Awaiting reply, Active and Invitations.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, lineText } from './i18n.js';

export const NARROW = '(max-width: 699px)';

// Who a visitor is to the team: the name they gave, else the number the server derives from their id
// (`number`, see functions/visitors/names.py) in this console's words: "Visitante 4821".
export function visitorLabel(v) {
  if (v && v.name) return v.name;
  return v && v.number ? t('visitorNumbered', { n: v.number }) : t('visitor');
}

// A chat's visitor; an anonymous one also by their country code, so two chats can be told apart.
export function visitorName(chat) {
  const v = chat.visitor;
  const label = visitorLabel(v);
  return v && !v.name && v.number && v.country ? label + ' (' + v.country + ')' : label;
}

// The server says when the visitor's last socket closed (`visitor_left_at`); moving between pages
// closes one socket and opens another, so "left" shows only once that is older than this grace.
const LEFT_GRACE_MS = 20e3;
const BACK_SHOWN_MS = 60e3;

// 'left', 'back' (for a minute after coming back from a shown "left"), or null.
export function presenceOf(cs, at) {
  const left = cs.chat.status !== 'closed' && cs.chat.visitor_left_at;
  if (left) return at - Date.parse(left) > LEFT_GRACE_MS ? 'left' : null;
  return cs.backAt && at - cs.backAt < BACK_SHOWN_MS ? 'back' : null;
}

export function createChatList({ state, now, select, accept, inviteReply, tail = null }) {
  // The queue's group filter, shown once the team has groups (setGroups): '' is every group.
  const filter = h('select', { class: 'queue-filter', 'data-testid': 'queue-filter', ...L('groupFilter'), onchange: render });
  const filterRow = h('p', { class: 'queue-filter-row', hidden: true }, filter);
  const lists = h('div');
  let notMine = new Set(); // groups whose chats this agent may not accept (not a member, not an admin)
  const el = h('nav', { class: 'list', ...L('chats') }, filterRow, lists);
  const narrow = matchMedia(NARROW);
  const groups = {};
  narrow.addEventListener('change', render);

  function group(key) {
    if (!groups[key]) {
      const count = h('span', { class: 'count' });
      const ul = h('ul', { class: 'items' });
      groups[key] = { el: h('section', { class: 'group', 'data-group': key }, h('h2', null, h('span', T(key)), ' ', count), ul), ul, count };
    }
    return groups[key];
  }

  function chatItem(cs) {
    if (!cs.ui) {
      const ui = (cs.ui = {
        name: h('span', { class: 'name', dir: 'auto' }),
        presence: h('span', { class: 'presence', 'data-testid': 'visitor-presence', hidden: true }),
        unread: h('span', { class: 'unread', 'data-testid': 'unread', hidden: true }),
        wait: h('span', { class: 'wait' }),
        preview: h('span', { class: 'preview' }),
      });
      ui.btn = h('button', { type: 'button', class: 'chat-item', 'data-testid': 'chat-item', 'data-chat-id': cs.id, onclick: () => select(cs.id) },
        h('span', { class: 'row' }, ui.name, ui.presence, ui.unread), h('span', { class: 'row' }, ui.preview, ui.wait));
      ui.li = h('li', null, ui.btn);
    }
    const { ui, chat } = cs;
    const open = chat.status !== 'closed';
    const waited = open && cs.awaiting ? now() - Date.parse(cs.awaiting) : 0;
    const red = waited > state().redAfterMs; // the admin's wait_threshold_s
    ui.name.textContent = visitorName(chat);
    const presence = presenceOf(cs, now());
    ui.presence.textContent = presence ? t(presence === 'left' ? 'visitorLeft' : 'visitorBack') : '';
    ui.presence.setAttribute('data-state', presence || 'here');
    show(ui.presence, !!presence);
    const last = cs.tr.last;
    ui.preview.textContent = last ? lineText(last) : open ? '' : t('closed');
    ui.unread.textContent = cs.unread;
    ui.unread.setAttribute('aria-label', t('unread', { n: cs.unread }));
    show(ui.unread, cs.unread > 0);
    // The colour is backed by text, so it does not rely on colour vision alone.
    // Thresholds under a minute are allowed, so short waits are told in seconds.
    ui.wait.textContent = !red ? '' : waited < 60e3 ? t('waitedSec', { n: Math.floor(waited / 1e3) }) : t('waited', { n: Math.floor(waited / 60e3) });
    ui.btn.classList.toggle('red', red);
    ui.btn.classList.toggle('green', open && !red);
    ui.btn.classList.toggle('closed', !open);
    ui.btn.setAttribute('aria-current', String(state().selected === cs.id));
    return ui.li;
  }

  function queueItem(cs) {
    if (!cs.qui) {
      const q = (cs.qui = {
        name: h('span', { class: 'name', dir: 'auto' }),
        wait: h('span', { class: 'wait' }),
        preview: h('span', { class: 'preview', 'data-testid': 'queue-preview' }),
        page: h('span', { class: 'page', 'data-testid': 'queue-page' }),
        group: h('span', { class: 'tag', 'data-testid': 'queue-group', dir: 'auto' }),
        accept: h('button', { type: 'button', class: 'accept', 'data-testid': 'accept', onclick: () => accept(cs.id), ...T('accept') }),
      });
      q.li = h('li', { class: 'queue-item', 'data-testid': 'queue-item', 'data-chat-id': cs.id },
        h('span', { class: 'row' }, q.name, q.wait), q.group, q.preview, q.page, q.accept);
    }
    const q = cs.qui;
    const c = cs.chat;
    const waited = now() - Date.parse(c.created_at);
    const red = waited > state().redAfterMs; // the admin's wait_threshold_s, as for chats
    const mins = Math.floor(waited / 60e3);
    q.name.textContent = visitorName(c);
    q.wait.textContent = red && mins < 1 ? t('waitedSec', { n: Math.floor(waited / 1e3) }) : mins >= 1 ? t('waited', { n: mins }) : t('justNow');
    q.li.classList.toggle('red', red);
    q.preview.textContent = c.first_message || '';
    show(q.preview, !!c.first_message);
    const page = c.page && (c.page.title || c.page.url);
    q.page.textContent = page ? t('onPage', { page }) : '';
    if (c.page) q.page.title = c.page.url;
    show(q.page, !!page);
    q.group.textContent = c.group ? c.group.name : '';
    show(q.group, !!c.group);
    q.accept.disabled = state().accepting.has(cs.id) || !!(c.group && notMine.has(c.group.id));
    return q.li;
  }

  function invitationItem(inv) {
    if (!inv.li) {
      inv.text = h('span', { class: 'name' });
      inv.li = h('li', { class: 'invitation-item', 'data-testid': 'invitation-item', 'data-chat-id': inv.chat_id },
        inv.text,
        h('span', { class: 'row' },
          h('button', { type: 'button', class: 'accept', 'data-testid': 'invite-accept', onclick: () => inviteReply(inv.chat_id, true), ...T('accept') }),
          h('button', { type: 'button', 'data-testid': 'invite-decline', onclick: () => inviteReply(inv.chat_id, false), ...T('decline') })));
    }
    // `welcome` lists invitations without who sent them; the live `invitation` frame says.
    const from = inv.from && inv.from.name;
    const visitor = inv.chat ? visitorName(inv.chat) : '';
    inv.text.textContent = from
      ? (visitor ? t('invitedByTo', { name: from, visitor }) : t('invitedBy', { name: from }))
      : (visitor ? t('invitedToChat', { visitor }) : t('invitedTo'));
    return inv.li;
  }

  function render() {
    const { chats, invitations } = state();
    const all = Array.from(chats.values());
    const byAge = (a, b) => String(a.chat.created_at || '').localeCompare(String(b.chat.created_at || ''));
    const only = filter.value;
    const queued = all.filter((c) => c.kind === 'queue' && (!only || (c.chat.group && c.chat.group.id === only))).sort(byAge);
    const mine = all.filter((c) => c.kind === 'mine').sort(byAge);
    const watched = all.filter((c) => c.kind === 'watch').sort(byAge); // chats this admin supervises
    const invites = Array.from(invitations.values()).map(invitationItem);
    // Invitations come first, as a card: a colleague is waiting on the answer.
    const layout = narrow.matches
      ? [
        ['invitations', invites],
        ['groupNew', queued.map(queueItem)],
        ['groupAwaiting', mine.filter((c) => c.awaiting && c.chat.status !== 'closed').map(chatItem)],
        ['groupActive', mine.filter((c) => !(c.awaiting && c.chat.status !== 'closed')).map(chatItem)],
        ['supervising', watched.map(chatItem)],
      ]
      : [['invitations', invites], ['myChats', mine.map(chatItem)], ['supervising', watched.map(chatItem)], ['queue', queued.map(queueItem)]];
    setChildren(lists, layout
      .filter(([key, items]) => key === 'supervising' ? items.length : key !== 'invitations' || items.length || narrow.matches)
      .map(([key, items]) => {
        const g = group(key);
        g.count.textContent = '(' + items.length + ')';
        setChildren(g.ul, items);
        return g.el;
      }).concat(tail ? [tail.el] : []));
    if (tail) tail.render();
  }

  // The team's groups (GET /agent/groups): the filter's choices, kept across a reload of the list;
  // `mine(group)`: may this agent accept the group's chats (docs/protocol.md, `accept`).
  function setGroups(groups, mine = () => true) {
    notMine = new Set(groups.filter((g) => !mine(g)).map((g) => g.id));
    const was = filter.value;
    filter.replaceChildren(h('option', { value: '', ...T('groupAll') }), ...groups.map((g) => h('option', { value: g.id, text: g.name })));
    filter.value = groups.some((g) => g.id === was) ? was : '';
    show(filterRow, groups.length > 0);
    render();
  }

  return { el, render, setGroups, destroy: () => narrow.removeEventListener('change', render) };
}

// Moving a focused element blurs it, so children are only rewritten when the order changed.
function setChildren(parent, kids) {
  const now = parent.children;
  if (now.length === kids.length && kids.every((k, i) => now[i] === k)) return;
  parent.replaceChildren(...kids);
}
