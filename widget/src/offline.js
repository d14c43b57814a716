// The offline form: the admin's fields (GET /widget/offline-form) → POST /visitor/offline → the
// ticket's reference. Shown when nobody is online, after `offline`, or on `offer_offline`.
import { h } from '../../ui-common/dom.js';
import { unreachable } from './api.js';

const MAX = { text: 200, email: 254, textarea: 4000 };

// Fills `slot` once (again after a language change rebuilt the panel); `pre(field)` gives a prefill,
// `chat()` the queued chat the message replaces, if any. `slot.ready`: once shown, the field where
// typing starts (for keyboard and screen-reader users): the first empty one, else the message.
export function mountOffline(slot, api, t, pre, chat) {
  if (slot.firstChild) return;
  const err = h('p', { class: 'error', 'data-testid': 'charla-offline-error', role: 'alert', hidden: true });
  const say = (m) => { err.textContent = m; err.hidden = !m; };
  slot.append(err);
  slot.ready = api.offlineForm(t.lang).then(({ fields }) => {
    const inputs = fields.map((f) => {
      const id = 'charla-o-' + f.name;
      const el = h(f.type === 'textarea' ? 'textarea' : 'input', {
        id, name: f.name, 'data-testid': 'charla-offline-field', 'data-name': f.name, maxlength: MAX[f.type] || 200,
        type: f.type === 'textarea' ? null : f.type, rows: f.type === 'textarea' ? 3 : null, required: f.required,
      });
      el.value = pre(f) || '';
      return [f, el, h('p', { class: 'field' }, h('label', { for: id, text: f.label }), el)];
    });
    const btn = h('button', { type: 'submit', class: 'btn', 'data-testid': 'charla-offline-submit', text: t('leaveMessage') });
    const form = h('form', {
      class: 'pre', 'data-testid': 'charla-offline-form', novalidate: true,
      onsubmit(e) {
        e.preventDefault();
        const values = {};
        for (const [f, el] of inputs) {
          const v = el.value.trim();
          if (f.required && !v) return say(t('needField', { label: f.label })), el.focus();
          if (v) values[f.name] = v;
        }
        say('');
        btn.disabled = true;
        api.offline(values, chat()).then((r) => {
          form.replaceWith(h('p', { class: 'done', 'data-testid': 'charla-offline-sent', role: 'status', text: t('offlineSent', { ref: r.ref }) }));
        }, (e2) => {
          btn.disabled = false;
          say(e2.status === 400 || e2.status === 429 ? e2.message : t('generic'));
        });
      },
    }, ...inputs.map((x) => x[2]), btn);
    err.before(form);
    return (inputs.find((x) => !x[1].value) || inputs.find((x) => x[0].type === 'textarea') || inputs[0])[1];
  }, (e) => say(t(unreachable(e))));
}
