// The open chat's "More" menu: transfer, invite, close, and placeholders for features that arrive
// with later issues. Transfer and Invite swap the menu for a list of the agents who are online
// right now (asked of the server each time: presence changes by the minute).
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, H } from './i18n.js';

export function createMoreMenu({ team, groups, me, transfer, transferGroup, invite, close, createTicket, ban }) {
  const btn = h('button', {
    type: 'button', class: 'more', 'data-testid': 'more', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-controls': 'more-menu', ...T('more'), onclick: () => (isOpen() ? hide(true) : open()),
  });
  const pop = h('div', { class: 'menu', id: 'more-menu', role: 'menu', ...L('more'), hidden: true, onkeydown: keys });
  const wrap = h('div', { class: 'menu-wrap' }, btn, pop);

  const item = (testid, key, onclick, extra) =>
    h('button', { type: 'button', role: 'menuitem', class: 'menu-item', 'data-testid': testid, tabindex: '-1', onclick, ...T(key), ...extra });
  // Disabled but still described, so the "coming soon" hint reaches screen readers and mice (the
  // wrapper carries the tooltip too: some browsers show none over a disabled control).
  const soon = (testid, key) => h('span', { class: 'menu-soon', ...H('comingSoon') },
    item(testid, key, null, { disabled: true, ...H('comingSoon'), 'aria-describedby': 'menu-soon-hint' }));
  const main = {
    transfer: item('transfer', 'transfer', () => picker('transfer')),
    invite: item('invite', 'invite', () => picker('invite')),
    close: item('close-chat', 'closeChat', () => { hide(true); close(cur); }),
    // [admin/account] reason and optional hours in a dialog (ban.js), then POST /agent/chats/{id}/ban.
    ban: item('ban-visitor', 'banVisitor', () => { const cs = cur; hide(false); ban(cs); }),
    ticket: item('create-ticket', 'createTicket', () => { hide(true); createTicket(cur); }),
  };
  // Both views stay in the document (one hidden) so language changes reach their labels.
  const mainView = h('div', { role: 'group' }, main.transfer, main.invite, main.close, h('hr', { role: 'separator' }),
    main.ticket, main.ban);
  const pickView = h('div', { role: 'group', hidden: true });
  pop.append(mainView, pickView);
  wrap.append(h('span', { id: 'menu-soon-hint', class: 'sr', ...T('comingSoon') }));

  let cur = null;
  let req = 0; // answers to an older team request are ignored

  const isOpen = () => !pop.hidden;

  function open() {
    req++;
    show(mainView, true);
    show(pickView, false);
    pickView.replaceChildren();
    show(pop, true);
    btn.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    focusItem(0);
  }

  function hide(refocus) {
    if (!isOpen()) return;
    req++;
    show(pop, false);
    btn.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) btn.focus();
  }

  function outside(e) {
    if (!wrap.contains(e.target)) hide(false);
  }

  async function picker(kind) {
    const cs = cur;
    const mine = ++req;
    const status = h('p', { class: 'menu-note', role: 'status', ...T('loading') });
    const back = item('menu-back', 'menuBack', open);
    const head = h('p', { class: 'menu-head', id: 'menu-pick-head', ...T(kind === 'transfer' ? 'transferTo' : 'inviteWho') });
    pickView.setAttribute('aria-labelledby', 'menu-pick-head');
    pickView.replaceChildren(head, status, back);
    show(mainView, false);
    show(pickView, true);
    focusItem(0);
    let agents;
    let teams = [];
    try {
      agents = ((await team()) || {}).agents || [];
      // A transfer may also go to a group: its next free member takes the chat, or it waits for them.
      if (kind === 'transfer') teams = ((await groups()) || {}).groups || [];
    } catch (e) {
      if (mine === req) status.textContent = t('loadFailed');
      return;
    }
    if (mine !== req || cs !== cur) return;
    // Only people who can take it now; someone already in the chat can be neither target.
    const inChat = new Set((cs.chat.agents || []).map((a) => a && a.id));
    const online = agents.filter((a) => a && a.id && a.online && a.id !== me().id && !inChat.has(a.id));
    status.textContent = online.length ? '' : t('nobodyOnline');
    show(status, !online.length);
    const testid = kind === 'transfer' ? 'transfer-to' : 'invite-agent';
    back.before(...online.map((a) => h('button', {
      type: 'button', role: 'menuitem', class: 'menu-item agent', 'data-testid': testid, 'data-agent-id': a.id, tabindex: '-1',
      onclick() {
        hide(true);
        (kind === 'transfer' ? transfer : invite)(cs, a);
      },
    }, h('span', { class: 'agent-name', text: a.name || a.email || a.id }),
    a.accepting ? null : h('span', { class: 'agent-note', text: t('notAcceptingShort') }))));
    if (teams.length) {
      back.before(h('p', { class: 'menu-head', ...T('transferToGroup') }), ...teams.map((g) => h('button', {
        type: 'button', role: 'menuitem', class: 'menu-item agent', 'data-testid': 'transfer-to-group', 'data-group-id': g.id, tabindex: '-1',
        onclick() {
          hide(true);
          transferGroup(cs, g);
        },
      }, h('span', { class: 'agent-name', text: g.name }))));
    }
    focusItem(0);
  }

  function items() {
    const view = pickView.hidden ? mainView : pickView;
    return Array.from(view.querySelectorAll('[role=menuitem]:not(:disabled)'));
  }

  function focusItem(i) {
    const all = items();
    if (all.length) all[(i + all.length) % all.length].focus();
  }

  // The menu button pattern: arrows move, Home/End jump, Escape closes back to the button, Tab
  // leaves.
  function keys(e) {
    const all = items();
    const i = all.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') focusItem(i + 1);
    else if (e.key === 'ArrowUp') focusItem(i < 0 ? -1 : i - 1);
    else if (e.key === 'Home') focusItem(0);
    else if (e.key === 'End') focusItem(-1);
    else if (e.key === 'Escape') hide(true);
    else if (e.key === 'Tab') return hide(false);
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  return {
    el: wrap,
    update(cs) {
      if (cs !== cur) hide(false);
      cur = cs;
      const open = !!cs && cs.chat.status !== 'closed';
      show(wrap, open);
      if (!open) return hide(false);
      const active = cs.chat.status === 'active';
      main.transfer.disabled = !active;
      main.invite.disabled = !active;
    },
    hide,
  };
}
