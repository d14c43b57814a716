// The centre (the selected chat's header with its rating and More menu, the transcript, the
// visitor's live draft, the composer with canned-response suggestions). The visitor info panel
// on the right (visitor.js) follows the selected chat. A chat an admin supervises (kind `watch`) has
// no More menu and a composer that only whispers, under a bar with Join and Stop supervising; in the
// agent's own chats a toggle turns the composer into a whisper to the other agents.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, P, H } from './i18n.js';
import { visitorName } from './chatlist.js';
import { createTagPicker } from './tags.js';

export function createConversation({ send, sendFile, files, back, input, menu, panel, canned, onInfo, tags, request, join, unsupervise }) {
  const title = h('h2', { class: 'conv-title', 'data-testid': 'conv-title', dir: 'auto' });
  const status = h('span', { class: 'conv-state', 'data-testid': 'conv-state' });
  const people = h('span', { class: 'conv-agents', 'data-testid': 'conv-agents' });
  const group = h('span', { class: 'conv-group', 'data-testid': 'conv-group', dir: 'auto' });
  const ratingWord = h('span', { class: 'rating-word' });
  const ratingComment = h('q', { class: 'rating-comment' });
  const rating = h('span', { class: 'rating', 'data-testid': 'rating', role: 'status', hidden: true }, ratingWord, ratingComment);
  // The chat's tags, while it runs and after it ended (PATCH /agent/chats/{id}/tags).
  const tagPicker = createTagPicker({
    store: tags, testid: 'chat-tags',
    async save(add, remove) {
      const cs = cur;
      const r = await request('PATCH', '/agent/chats/' + encodeURIComponent(cs.id) + '/tags', { add, remove });
      cs.chat = { ...cs.chat, tags: r.tags };
      return r.tags;
    },
  });
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
    h('div', { class: 'conv-titles' }, title, h('span', { class: 'conv-sub' }, status, people, group), rating, tagPicker.el), infoBtn, menu.el);
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
  const whisperBox = h('input', { type: 'checkbox', id: 'whisper-toggle', 'data-testid': 'whisper-toggle', onchange: () => renderMode() });
  const whisperLabel = h('label', { class: 'whisper-toggle', for: 'whisper-toggle' }, whisperBox, ' ', h('span', T('whisperToggle')));
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('label', { for: 'composer', class: 'sr', ...T('message') }), suggest.el, composer, h('span', { class: 'composer-side' }, sendBtn, whisperLabel));
  const joinBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'join', ...T('join'), onclick: () => cur && join(cur) });
  const stopBtn = h('button', { type: 'button', 'data-testid': 'stop-supervising', ...T('stopSupervising'), onclick: () => cur && unsupervise(cur) });
  const watchBar = h('p', { class: 'watch-bar', 'data-testid': 'supervise-bar', role: 'status', hidden: true },
    h('span', T('superviseNote')), ' ', h('span', { class: 'row' }, joinBtn, stopBtn));
  const el = h('section', { class: 'conv', ...L('message') }, head, watchBar, scroll, peek, form);
  // A file goes by the composer's button, or dropped or pasted anywhere on the conversation (not while
  // supervising: a watcher only whispers).
  const writable = () => !!cur && cur.chat.status !== 'closed' && cur.kind !== 'watch';
  const picker = files.attach(el, (f) => { if (writable()) sendFile(cur, f); }, writable);
  form.insertBefore(picker.button, composer.nextSibling);
  form.append(picker.input);

  let cur = null;

  function info(on, refocus) {
    infoBtn.setAttribute('aria-expanded', String(on));
    onInfo(on);
    if (on) infoClose.focus();
    else if (refocus) infoBtn.focus();
  }

  // A supervisor only whispers; an agent in the chat whispers while the toggle is on.
  const whispering = () => !!cur && (cur.kind === 'watch' || whisperBox.checked);

  function submit() {
    if (!cur || !composer.value.trim()) return;
    const text = composer.value;
    composer.value = '';
    suggest.close();
    send(cur, text, whispering());
  }

  function renderMode() {
    const on = whispering();
    form.classList.toggle('whispering', on);
    sendBtn.setAttribute('data-i18n', on ? 'whisper' : 'send');
    sendBtn.textContent = t(on ? 'whisper' : 'send');
    composer.setAttribute('data-i18n-ph', on ? 'whisperPlaceholder' : 'placeholder');
    composer.setAttribute('placeholder', t(on ? 'whisperPlaceholder' : 'placeholder'));
  }

  function update() {
    const watching = !!cur && cur.kind === 'watch';
    show(head, !!cur);
    show(form, !!cur);
    show(watchBar, watching);
    show(whisperLabel, !!cur && !watching);
    menu.update(watching ? null : cur);
    renderMode();
    panel.update();
    if (!cur) return show(peek, false);
    const c = cur.chat;
    const open = c.status !== 'closed';
    title.textContent = visitorName(c);
    status.textContent = (watching ? t('supervising') + ' · ' : '') + t(c.status === 'queued' ? 'queued' : open ? 'active' : 'closed');
    // With several agents in a chat, who else is here matters.
    const names = (c.agents || []).map((a) => a && a.name).filter(Boolean);
    people.textContent = names.length ? ' · ' + names.join(', ') : '';
    group.textContent = c.group ? ' · ' + t('groupOf', { name: c.group.name }) : ''; // the group it is for
    renderRating(c);
    tagPicker.update(c.tags);
    composer.disabled = sendBtn.disabled = whisperBox.disabled = !open;
    picker.button.disabled = !open || watching;
    joinBtn.disabled = !open;
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
    get whispering() { return whispering(); },
    show(cs) {
      cur = cs;
      scroll.replaceChildren(cs ? cs.list : empty);
      composer.value = cs ? cs.draft : '';
      whisperBox.checked = false;
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
