// "Ban visitor" from the chat's More menu: a reason and an optional number of hours, then
// POST /agent/chats/{chat_id}/ban (the server ends the chat and closes the visitor's sockets).
import { h, show } from '../../ui-common/dom.js';
import { t, T } from './i18n.js';

export function createBanDialog({ request, flash }) {
  const reason = h('textarea', { id: 'ban-visitor-reason', 'data-testid': 'ban-visitor-reason', rows: 3, maxlength: 500, required: true });
  const hours = h('input', { id: 'ban-visitor-hours', 'data-testid': 'ban-visitor-hours', type: 'number', min: 0, max: 8760, step: 'any' });
  const error = h('p', { class: 'form-error', 'data-testid': 'ban-visitor-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'danger', 'data-testid': 'ban-visitor-submit', ...T('banVisitor') });
  const cancel = h('button', { type: 'button', class: 'plain', 'data-testid': 'ban-visitor-cancel', ...T('cancel'), onclick: () => dialog.close() });
  const field = (id, key, control, help) => h('p', { class: 'field' }, h('label', { for: id, ...T(key) }), control, help ? h('span', { class: 'help', ...T(help) }) : null);
  const form = h('form', { class: 'canned-form', novalidate: true, onsubmit: send },
    field('ban-visitor-reason', 'banReason', reason), field('ban-visitor-hours', 'banHours', hours, 'banHoursHelp'), error,
    h('p', { class: 'row-actions' }, submit, cancel));
  const dialog = h('dialog', { class: 'canned-dialog', 'data-testid': 'ban-visitor-dialog', 'aria-labelledby': 'ban-visitor-title' },
    h('header', { class: 'dialog-head' }, h('h2', { id: 'ban-visitor-title', ...T('banVisitor') })), form);
  let cs = null;

  async function send(e) {
    e.preventDefault();
    show(error, false);
    if (!reason.value.trim()) {
      error.textContent = t('banMissingReason');
      return show(error, true);
    }
    const body = { reason: reason.value.trim() };
    if (hours.value.trim()) body.hours = Number(hours.value);
    submit.disabled = true;
    try {
      await request('POST', '/agent/chats/' + encodeURIComponent(cs.id) + '/ban', body);
      dialog.close();
      flash(t('visitorBanned'));
    } catch (err) {
      error.textContent = (err && err.status && err.message) || t(err && err.status ? 'generic' : 'network');
      show(error, true);
    } finally {
      submit.disabled = false;
    }
  }

  return {
    open(chat) {
      cs = chat;
      if (!cs) return;
      reason.value = '';
      hours.value = '';
      show(error, false);
      if (!dialog.isConnected) document.body.append(dialog);
      dialog.showModal();
      reason.focus();
    },
    destroy() {
      if (dialog.open) dialog.close();
      dialog.remove();
    },
  };
}
