// The centre (the selected chat's header with its rating and More menu, the transcript, the
// visitor's live draft, the composer with canned-response suggestions). The visitor info panel
// on the right (visitor.js) follows the selected chat.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, P, H } from './i18n.js';
import { visitorName } from './chatlist.js';

export function createConversation({ send, back, input, menu, panel, canned, onInfo }) {
  const title = h('h2', { class: 'conv-title', 'data-testid': 'conv-title', dir: 'auto' });
  const status = h('span', { class: 'conv-state', 'data-testid': 'conv-state' });
  const people = h('span', { class: 'conv-agents', 'data-testid': 'conv-agents' });
  const group = h('span', { class: 'conv-group', 'data-testid': 'conv-group', dir: 'auto' });
  const ratingWord = h('span', { class: 'rating-word' });
  const ratingComment = h('q', { class: 'rating-comment' });
  const rating = h('span', { class: 'rating', 'data-testid': 'rating', role: 'status', hidden: true }, ratingWord, ratingComment);
  const backBtn = h('button', { type: 'button', class: 'back', 'data-testid': 'back', onclick: back, ...T('back') });
  // Below 1,000 px the visitor panel is a drawer over the chat, behind this button (the console's
  // data-info says whether it is out).
  const infoBtn = h('button', {
    type: 'button', class: 'info-toggle', 'data-testid': 'info-toggle', 'aria-expanded': 'false', 'aria-controls': 'visitor-panel',
    ...L('visitorInfo'), ...H('visitorInfo'), onclick: () => info(infoBtn.getAttribute('aria-expanded') !== 'true'),
  });
  const infoClose = h('button', { type: 'button', class: 'info-close', 'data-testid': 'info-close', ...L('closePanel'), onclick: () => info(false, true) });
  panel.el.id = 'visitor-panel';
  panel.el.prepend(infoClose);
  const head = h('header', { class: 'conv-head' }, backBtn,
    h('div', { class: 'conv-titles' }, title, h('span', { class: 'conv-sub' }, status, people, group), rating), infoBtn, menu.el);
  const empty = h('p', { class: 'empty', ...T('noChat') });
  const scroll = h('div', { class: 'scroll' }, empty);
  const peekWho = h('span', { class: 'peek-who' });
  const peekDraft = h('span', { class: 'peek-draft', dir: 'auto' });
  const peek = h('p', { class: 'peek', 'data-testid': 'peek', 'aria-live': 'polite', hidden: true }, peekWho, ' ', peekDraft);
  const composer = h('textarea', {
    id: 'composer', 'data-testid': 'composer', rows: 3, ...P('placeholder'),
    oninput: () => input(composer.value),
    onkeydown(e) {
      if (suggest.key(e)) return; // the canned list takes arrows, Enter and Escape while open
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    },
  });
  const suggest = canned.attach(composer, (value) => input(value));
  const sendBtn = h('button', { type: 'submit', class: 'primary', 'data-testid': 'send', ...T('send') });
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('label', { for: 'composer', class: 'sr', ...T('message') }), suggest.el, composer, sendBtn);
  const el = h('section', { class: 'conv', ...L('message') }, head, scroll, peek, form);

  let cur = null;

  function info(on, refocus) {
    infoBtn.setAttribute('aria-expanded', String(on));
    onInfo(on);
    if (on) infoClose.focus();
    else if (refocus) infoBtn.focus();
  }

  function submit() {
    if (!cur || !composer.value.trim()) return;
    const text = composer.value;
    composer.value = '';
    suggest.close();
    send(cur, text);
  }

  function update() {
    show(head, !!cur);
    show(form, !!cur);
    menu.update(cur);
    panel.update();
    if (!cur) return show(peek, false);
    const c = cur.chat;
    const open = c.status !== 'closed';
    title.textContent = visitorName(c);
    status.textContent = t(c.status === 'queued' ? 'queued' : open ? 'active' : 'closed');
    // With several agents in a chat, who else is here matters.
    const names = (c.agents || []).map((a) => a && a.name).filter(Boolean);
    people.textContent = names.length ? ' · ' + names.join(', ') : '';
    group.textContent = c.group ? ' · ' + t('groupOf', { name: c.group.name }) : ''; // the group it is for
    renderRating(c);
    composer.disabled = sendBtn.disabled = !open;
    if (!open) suggest.close();
    renderPeek();
  }

  function renderRating(c) {
    const r = c.rating === 'good' || c.rating === 'bad' ? c.rating : null;
    show(rating, !!r);
    if (!r) return rating.removeAttribute('data-rating');
    rating.setAttribute('data-rating', r);
    ratingWord.textContent = t(r === 'good' ? 'ratedGood' : 'ratedBad');
    // The chat object carries the comment as `rating_comment` when the server includes it.
    const comment = typeof c.rating_comment === 'string' ? c.rating_comment : '';
    ratingComment.textContent = comment;
    show(ratingComment, !!comment);
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
    get current() { return cur; },
    get draft() { return composer.value; },
    show(cs) {
      cur = cs;
      scroll.replaceChildren(cs ? cs.list : empty);
      composer.value = cs ? cs.draft : '';
      suggest.close();
      panel.show(cs);
      if (!cs) info(false);
      update();
      scrollDown();
    },
    update,
    peek: renderPeek,
    nearBottom,
    scrollDown,
    info: (on) => info(on, true),
    focus: () => composer.focus(),
  };
}
