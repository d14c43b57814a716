// The chat panel's elements. Nothing here knows about the protocol; widget.js drives it.
import { h } from '../../ui-common/dom.js';

export function buildPanel(t, on) {
  const field = (id, type, label, extra, tag = 'input') =>
    h('p', { class: 'field' },
      h('label', { for: 'charla-' + id, text: label }),
      h(tag, { id: 'charla-' + id, name: id, type, 'data-testid': 'charla-' + id, required: true, ...extra }));

  const ui = {};
  ui.title = h('h2', { id: 'charla-title', text: t('title') });
  ui.sub = h('p', { class: 'sub', hidden: true });
  ui.close = h('button', { type: 'button', class: 'x', 'aria-label': t('close'), onclick: on.close });
  ui.end = h('button', { type: 'button', class: 'end', 'data-testid': 'charla-end', text: t('endChat'), onclick: on.end, hidden: true });
  ui.greet = h('p', { class: 'greet', hidden: true });
  ui.away = h('div', { class: 'away', 'data-testid': 'charla-away', role: 'status', hidden: true },
    ui.awayText = h('p', { text: t('away') }),
    // The queue-timeout offer's choice; widget.js shows it.
    ui.offer = h('div', { class: 'thumbs', hidden: true },
      h('button', { type: 'button', class: 'btn alt', 'data-testid': 'charla-offer-wait', text: t('keepWaiting'), onclick: () => on.offer(0) }),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'charla-offer-leave', text: t('leaveInstead'), onclick: () => on.offer(2) })),
    // Filled in by offline.js.
    ui.offline = h('div'));
  ui.list = h('ol', {
    class: 'msgs', 'data-testid': 'charla-messages', 'aria-live': 'polite', 'aria-label': t('title'),
  });
  ui.typing = h('p', { class: 'typing', 'data-testid': 'charla-typing', 'aria-live': 'polite', hidden: true });
  ui.status = h('p', { class: 'status', 'data-testid': 'charla-status', role: 'status', hidden: true });
  ui.error = h('p', { class: 'error', 'data-testid': 'charla-error', role: 'alert', hidden: true });

  ui.nameRow = field('name', 'text', t('name'), { autocomplete: 'name', maxlength: 100 });
  ui.emailRow = field('email', 'email', t('email'), { autocomplete: 'email', maxlength: 255 });
  // The groups to choose from (widget.js fills it): above both the pre-chat form and the away notice.
  ui.groupRow = field('group', null, t('group'), { onchange: on.group }, 'select');
  ui.group = ui.groupRow.lastChild;
  ui.name = ui.nameRow.lastChild;
  ui.email = ui.emailRow.lastChild;
  ui.start = h('button', { type: 'submit', class: 'btn', 'data-testid': 'charla-start', text: t('start') });
  // novalidate: our own messages go to the error line, in the visitor's language.
  ui.pre = h('form', { class: 'pre', novalidate: true, onsubmit: on.start }, ui.nameRow, ui.emailRow, ui.start);

  ui.peek = h('p', { class: 'peek', 'data-testid': 'charla-peek-notice', text: t('peek') });
  ui.input = h('textarea', {
    id: 'charla-input', 'data-testid': 'charla-input', rows: 1, placeholder: t('placeholder'),
    oninput: on.input, onkeydown: on.key,
  });
  ui.send = h('button', { type: 'submit', class: 'btn', 'data-testid': 'charla-send', text: t('send') });
  // A label around the file input opens the picker with no script; widget.js shows it in a chat.
  ui.file = h('label', { class: 'fb', title: t('file') },
    h('input', { type: 'file', class: 'sr', 'data-testid': 'charla-file', 'aria-label': t('file'), onchange: on.file }));
  ui.composer = h('form', { class: 'composer', onsubmit: on.send },
    h('label', { for: 'charla-input', class: 'sr', text: t('message') }), ui.file, ui.input, ui.send);

  // After the chat: rate it, get the transcript by email, or start again.
  const thumb = (r) => h('button', {
    type: 'button', class: 'thumb ' + r, 'data-testid': 'charla-rate-' + r, 'aria-pressed': 'false', text: t(r),
    onclick: () => on.pick(r),
  });
  ui.good = thumb('good');
  ui.bad = thumb('bad');
  ui.comment = h('textarea', { id: 'charla-rate-comment', 'data-testid': 'charla-rate-comment', rows: 2, maxlength: 1000 });
  ui.rateSubmit = h('button', { type: 'submit', class: 'btn', 'data-testid': 'charla-rate-submit', text: t('rateSubmit'), disabled: true });
  ui.rate = h('form', { class: 'rate', 'aria-labelledby': 'charla-rate-q', onsubmit: on.rate },
    h('p', { id: 'charla-rate-q', class: 'q', text: t('rateTitle') }),
    h('div', { class: 'thumbs', role: 'group', 'aria-labelledby': 'charla-rate-q' }, ui.good, ui.bad),
    h('p', { class: 'field' }, h('label', { for: 'charla-rate-comment', text: t('comment') }), ui.comment),
    ui.rateSubmit);
  ui.rated = h('p', { class: 'done', 'data-testid': 'charla-rated', role: 'status', text: t('rated'), hidden: true });
  // The transcript goes only to the address the chat started with: it is shown, never typed here.
  ui.trTo = h('p', { class: 'field', 'data-testid': 'charla-transcript-to' });
  ui.trSend = h('button', { type: 'submit', class: 'btn', 'data-testid': 'charla-transcript', text: t('transcript') });
  ui.tr = h('form', { class: 'tr', novalidate: true, 'aria-labelledby': 'charla-copy-q', onsubmit: on.transcript },
    h('p', { id: 'charla-copy-q', class: 'q', text: t('copy') }), ui.trTo, ui.trSend);
  ui.trSent = h('p', { class: 'done', 'data-testid': 'charla-transcript-sent', role: 'status', hidden: true });
  ui.newChat = h('button', { type: 'button', class: 'btn alt', 'data-testid': 'charla-new-chat', text: t('newChat'), onclick: on.restart });
  ui.after = h('div', { class: 'after', hidden: true }, ui.rate, ui.rated, ui.tr, ui.trSent, ui.newChat);

  ui.panel = h('div', {
    class: 'panel', id: 'charla-panel', 'data-testid': 'charla-panel', role: 'dialog',
    'aria-labelledby': 'charla-title', hidden: true, onkeydown: on.panelKey,
  },
  // A div, not <header>: inside the host page a second banner landmark would confuse screen readers.
  h('div', { class: 'head' }, h('div', null, ui.title, ui.sub), ui.end, ui.close),
  h('div', { class: 'body' }, ui.greet, ui.groupRow, ui.away, ui.list, ui.typing, ui.status, ui.pre, ui.after),
  h('div', { class: 'foot' }, ui.error, ui.composer));
  return ui;
}
