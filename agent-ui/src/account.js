// Account (every agent): display name (PATCH /agent/me), password (POST /agent/me/password, with
// the access token kept from sign-in) and signing out everywhere (POST /agent/me/signout-all).
import { h, show } from '../../ui-common/dom.js';
import { t, T } from './i18n.js';

export function createAccount({ auth, me, renamed }) {
  const request = auth.request;
  const msg = (testid, cls, role) => h('p', { class: cls, 'data-testid': testid, role, hidden: true });
  const say = (el, text) => { el.textContent = text; show(el, true); };
  const why = (e) => (e && e.status && e.message && !/^HTTP \d+$/.test(e.message) ? e.message : t(e && e.status ? 'generic' : 'network'));
  const field = (id, key, control) => h('p', { class: 'field' }, h('label', { for: id, ...T(key) }), control);

  // -- name ------------------------------------------------------------------------------------
  const name = h('input', { id: 'account-name', 'data-testid': 'account-name', maxlength: 100, required: true, autocomplete: 'name' });
  const nameSave = h('button', { type: 'submit', class: 'primary', 'data-testid': 'account-name-save', ...T('save') });
  const nameError = msg('account-name-error', 'form-error', 'alert');
  const nameOk = msg('account-name-saved', 'form-ok', 'status');
  const nameForm = h('form', { class: 'admin-box admin-form', novalidate: true, async onsubmit(e) {
    e.preventDefault();
    show(nameError, false);
    show(nameOk, false);
    if (!name.value.trim()) return say(nameError, t('nameMissing'));
    nameSave.disabled = true;
    try {
      const r = (await request('PATCH', '/agent/me', { name: name.value.trim() })) || {};
      renamed(r.name || name.value.trim());
      say(nameOk, t('nameSaved'));
    } catch (err) {
      say(nameError, why(err));
    } finally {
      nameSave.disabled = false;
    }
  } }, h('h3', T('displayName')), field('account-name', 'name', name), nameError, nameOk, nameSave);

  // -- password --------------------------------------------------------------------------------
  const oldPw = h('input', { id: 'account-old-password', type: 'password', 'data-testid': 'account-old-password', autocomplete: 'current-password' });
  const newPw = h('input', { id: 'account-new-password', type: 'password', 'data-testid': 'account-new-password', autocomplete: 'new-password' });
  const pwSave = h('button', { type: 'submit', class: 'primary', 'data-testid': 'account-password-save', ...T('changePassword') });
  const pwError = msg('account-password-error', 'form-error', 'alert');
  const pwOk = msg('account-password-saved', 'form-ok', 'status');
  const pwForm = h('form', { class: 'admin-box admin-form', novalidate: true, async onsubmit(e) {
    e.preventDefault();
    show(pwError, false);
    show(pwOk, false);
    if (!oldPw.value || !newPw.value) return say(pwError, t('passwordMissing'));
    const token = auth.accessToken();
    if (!token) return say(pwError, t('passwordSignInAgain'));
    pwSave.disabled = true;
    try {
      await request('POST', '/agent/me/password', { old_password: oldPw.value, new_password: newPw.value, access_token: token });
      oldPw.value = '';
      newPw.value = '';
      say(pwOk, t('passwordChanged'));
    } catch (err) {
      say(pwError, why(err));
    } finally {
      pwSave.disabled = false;
    }
  } }, h('h3', T('changePassword')), h('p', { class: 'help', ...T('passwordHelp') }),
  field('account-old-password', 'currentPassword', oldPw), field('account-new-password', 'newPassword', newPw), pwError, pwOk, pwSave);

  // -- sign out everywhere ---------------------------------------------------------------------
  const outError = msg('signout-all-error', 'form-error', 'alert');
  const outBtn = h('button', { type: 'button', class: 'danger', 'data-testid': 'signout-all', ...T('signOutAll'), async onclick() {
    show(outError, false);
    outBtn.disabled = true;
    try {
      await request('POST', '/agent/me/signout-all');
      auth.end(); // this tab's tokens were revoked too: back to the sign-in screen
    } catch (err) {
      if (err && err.status !== 401) say(outError, why(err));
    } finally {
      outBtn.disabled = false;
    }
  } });
  const out = h('div', { class: 'admin-box' }, h('h3', T('signOutAll')), h('p', { class: 'help', ...T('signOutAllHelp') }), outError, outBtn);

  const el = h('section', { class: 'visitors-view admin-view', 'data-testid': 'account-view', hidden: true },
    h('h2', T('account')), nameForm, pwForm, out);

  return {
    el,
    show(on) {
      show(el, on);
      if (on) name.value = me().name || '';
    },
  };
}
