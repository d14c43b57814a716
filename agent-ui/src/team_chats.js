// Admins: the team's active chats, each with Supervise (GET /admin/chats/active, read when the console
// opens or shows its Chats section, every 30 s, and soon after a `chat` frame), under the admin's own lists in
// the left column. Chats the admin takes part in
// or already supervises are left out: they are in the lists above.
import { h, show } from '../../ui-common/dom.js';
import { t, T } from './i18n.js';
import { visitorName } from './chatlist.js';

const REFRESH_MS = 30e3;
const SOON_MS = 1500; // `chat` frames come in bursts (notices): one read for the lot

export function createTeamChats({ request, supervise, listed }) {
  const count = h('span', { class: 'count' });
  const ul = h('ul', { class: 'items' });
  const el = h('section', { class: 'group team-chats', 'data-group': 'teamChats', 'data-testid': 'team-chats', hidden: true },
    h('h2', null, h('span', T('teamChats')), ' ', count), ul);
  let chats = [];
  let stopped = false;
  let soonTimer = null;

  async function load() {
    try {
      const found = await request('GET', '/admin/chats/active');
      chats = Array.isArray(found && found.chats) ? found.chats : [];
    } catch (e) {
      if (!e || e.status !== 403) return; // kept as it was; the next read tries again
      chats = []; // no longer an admin
    }
    render();
  }

  function render() {
    const shown = chats.filter((c) => c && c.chat_id && !listed(c.chat_id));
    count.textContent = '(' + shown.length + ')';
    ul.replaceChildren(...shown.map((c) => h('li', { class: 'team-chat', 'data-testid': 'team-chat', 'data-chat-id': c.chat_id },
      h('span', { class: 'row' },
        h('span', { class: 'name', dir: 'auto', text: visitorName(c) }),
        h('button', { type: 'button', class: 'plain', 'data-testid': 'supervise', ...T('supervise'), onclick: () => supervise(c.chat_id) })),
      h('span', { class: 'preview', dir: 'auto', text: (c.agents || []).map((a) => a && a.name).filter(Boolean).join(', ') || t('none') }))));
    show(el, shown.length > 0);
  }

  function soon() {
    if (soonTimer || stopped) return;
    soonTimer = setTimeout(() => {
      soonTimer = null;
      load();
    }, SOON_MS);
  }

  const timer = setInterval(() => !stopped && load(), REFRESH_MS);
  load();
  return {
    el,
    render,
    load,
    soon,
    destroy() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(soonTimer);
    },
  };
}
