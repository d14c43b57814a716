// The greeting bubble above the launcher: an agent's or a rule's message and a reply box.
// Answering it starts the chat; the text goes in as text, like every message.
import { h } from '../../ui-common/dom.js';

export function greetingBubble(t, g, { answer, dismiss }) {
  const input = h('textarea', {
    id: 'charla-greeting-reply', 'data-testid': 'charla-greeting-reply', rows: 1, maxlength: 4000,
    placeholder: t('reply'),
    onkeydown(e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    },
  });
  function submit(e) {
    if (e) e.preventDefault();
    const text = input.value.trim();
    if (text) answer(text);
  }
  const from = g.from && g.from.name;
  const el = h('div', {
    class: 'greeting', 'data-testid': 'charla-greeting', role: 'dialog', 'aria-labelledby': 'charla-greeting-text',
  },
  h('button', { type: 'button', class: 'x', 'data-testid': 'charla-greeting-close', 'aria-label': t('dismiss'), onclick: dismiss }),
  from ? h('p', { class: 'who', text: from }) : null,
  h('p', { class: 'text', id: 'charla-greeting-text', 'aria-live': 'polite', text: g.text }),
  h('form', { class: 'composer', onsubmit: submit },
    h('label', { for: 'charla-greeting-reply', class: 'sr', text: t('reply') }), input,
    h('button', { type: 'submit', class: 'btn', 'data-testid': 'charla-greeting-send', text: t('send') })));
  return el;
}
