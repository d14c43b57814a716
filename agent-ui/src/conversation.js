// The centre (the selected chat's transcript, the visitor's live draft, the composer) and the
// visitor info panel on the right.
import { h, show } from '../../widget/src/core/dom.js';
import { t, T, L, P } from './i18n.js';
import { visitorName } from './chatlist.js';

export function createConversation({ send, closeChat, back, input }) {
  const title = h('h2', { class: 'conv-title', 'data-testid': 'conv-title' });
  const status = h('span', { class: 'conv-state', 'data-testid': 'conv-state' });
  const closeBtn = h('button', { type: 'button', class: 'danger', 'data-testid': 'close-chat', onclick: closeChat, ...T('closeChat') });
  const backBtn = h('button', { type: 'button', class: 'back', 'data-testid': 'back', onclick: back, ...T('back') });
  const head = h('header', { class: 'conv-head' }, backBtn, h('div', { class: 'conv-titles' }, title, status), closeBtn);
  const empty = h('p', { class: 'empty', ...T('noChat') });
  const scroll = h('div', { class: 'scroll' }, empty);
  const peekWho = h('span', { class: 'peek-who' });
  const peekDraft = h('span', { class: 'peek-draft' });
  const peek = h('p', { class: 'peek', 'data-testid': 'peek', 'aria-live': 'polite', hidden: true }, peekWho, ' ', peekDraft);
  const composer = h('textarea', {
    id: 'composer', 'data-testid': 'composer', rows: 3, ...P('placeholder'),
    oninput: () => input(composer.value),
    onkeydown(e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    },
  });
  const sendBtn = h('button', { type: 'submit', class: 'primary', 'data-testid': 'send', ...T('send') });
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('label', { for: 'composer', class: 'sr', ...T('message') }), composer, sendBtn);
  const el = h('section', { class: 'conv', ...L('message') }, head, scroll, peek, form);

  const vName = h('dd', { 'data-testid': 'visitor-name' });
  const vEmail = h('dd', { 'data-testid': 'visitor-email' });
  const info = h('aside', { class: 'info' },
    h('h2', T('visitorInfo')),
    h('dl', null, h('dt', T('name')), vName, h('dt', T('email')), vEmail),
    // More about the visitor (pages, past chats) arrives with a later task.
    h('div', { class: 'extra', 'data-slot': 'visitor-extra' }));

  let cur = null;

  function submit() {
    if (!cur || !composer.value.trim()) return;
    const text = composer.value;
    composer.value = '';
    send(cur, text);
  }

  function update() {
    show(head, !!cur);
    show(form, !!cur);
    show(info, !!cur);
    if (!cur) return show(peek, false);
    const c = cur.chat;
    const open = c.status !== 'closed';
    title.textContent = visitorName(c);
    status.textContent = t(c.status === 'queued' ? 'queued' : open ? 'active' : 'closed');
    show(closeBtn, open);
    composer.disabled = sendBtn.disabled = !open;
    vName.textContent = (c.visitor && c.visitor.name) || t('none');
    vEmail.textContent = (c.visitor && c.visitor.email) || t('none');
    renderPeek();
  }

  function renderPeek() {
    const p = cur && cur.peek;
    show(peek, !!p);
    if (!p) return;
    const name = p.name || (p.from === 'visitor' ? visitorName(cur.chat) : t('visitor'));
    // Sneak peek: the visitor's unsent draft, shown as text like everything else.
    peekWho.textContent = p.draft ? t('peekDraft', { name }) : t('isTyping', { name });
    peekDraft.textContent = p.draft || '';
  }

  const nearBottom = () => scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 120;
  const scrollDown = () => { scroll.scrollTop = scroll.scrollHeight; };

  update();
  return {
    el,
    info,
    get current() { return cur; },
    get draft() { return composer.value; },
    show(cs) {
      cur = cs;
      scroll.replaceChildren(cs ? cs.list : empty);
      composer.value = cs ? cs.draft : '';
      update();
      scrollDown();
    },
    update,
    peek: renderPeek,
    nearBottom,
    scrollDown,
    focus: () => composer.focus(),
  };
}
