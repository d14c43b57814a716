// Account (every agent): display name (PATCH /agent/me), sign-in address (POST /agent/me/email, then
// the mailed code to /agent/me/email/verify), password (POST /agent/me/password, with the access token
// kept from sign-in), two-step sign-in (mfa.js; GET /agent/me/mfa, POST /agent/me/mfa/disable) and
// signing out everywhere (POST /agent/me/signout-all).
import { h, show } from '../../ui-common/dom.js';
import { t, T, errorText } from './i18n.js';
import { createMfaSetup } from './mfa.js';

export function createAccount({ auth, me, renamed }) {
  const request = auth.request;
  const msg = (testid, cls, role) => h('p', { class: cls, 'data-testid': testid, role, hidden: true });
  const say = (el, text) => { el.textContent = text; show(el, true); };
  // A refusal names its field by the label this page shows it under, in the console's language.
  const LABELS = { name: 'name', email: 'newEmail', code: 'emailCode', old_password: 'currentPassword', new_password: 'newPassword' };
  const why = (e) => errorText(e, (f) => (LABELS[f] ? { label: t(LABELS[f]) } : null));
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

  // -- sign-in address: a code mailed to the new one; the old one stays until it comes back -----
  const newEmail = h('input', { id: 'account-email', type: 'email', 'data-testid': 'account-email', maxlength: 254, autocomplete: 'email' });
  const emailSend = h('button', { type: 'submit', class: 'primary', 'data-testid': 'account-email-send', ...T('emailSendCode') });
  const emailCode = h('input', { id: 'account-email-code', 'data-testid': 'account-email-code', inputmode: 'numeric', maxlength: 6, autocomplete: 'one-time-code' });
  const emailConfirm = h('button', { type: 'button', class: 'primary', 'data-testid': 'account-email-confirm', ...T('emailConfirm'), onclick: confirmEmail });
  const emailError = msg('account-email-error', 'form-error', 'alert');
  const emailOk = msg('account-email-saved', 'form-ok', 'status');
  const emailCurrent = h('p', { class: 'help', 'data-testid': 'account-email-current' });
  const codeStep = h('div', { hidden: true, 'data-testid': 'account-email-pending' },
    h('p', { class: 'help', ...T('emailCodeSent') }), field('account-email-code', 'emailCode', emailCode), emailConfirm);
  const emailForm = h('form', { class: 'admin-box admin-form', novalidate: true, async onsubmit(e) {
    e.preventDefault();
    show(emailError, false);
    show(emailOk, false);
    if (!newEmail.value.trim()) return say(emailError, t('emailMissing'));
    emailSend.disabled = true;
    try {
      await request('POST', '/agent/me/email', { email: newEmail.value.trim() });
      show(codeStep, true);
      emailCode.focus();
    } catch (err) {
      say(emailError, why(err));
    } finally {
      emailSend.disabled = false;
    }
  } }, h('h3', T('signInEmail')), emailCurrent, field('account-email', 'newEmail', newEmail), emailSend, codeStep, emailError, emailOk);
  async function confirmEmail() {
    show(emailError, false);
    if (!/^\d{6}$/.test(emailCode.value.trim())) return say(emailError, t('mfaCodeMissing'));
    emailConfirm.disabled = true;
    try {
      const r = await request('POST', '/agent/me/email/verify', { code: emailCode.value.trim() });
      emailCurrent.textContent = r.email;
      newEmail.value = '';
      emailCode.value = '';
      show(codeStep, false);
      say(emailOk, t('emailChanged'));
    } catch (err) {
      say(emailError, why(err));
    } finally {
      emailConfirm.disabled = false;
    }
  }

  // -- two-step sign-in (TOTP) -----------------------------------------------------------------
  const mfaState = h('p', { class: 'help mfa-state', 'data-testid': 'mfa-status' });
  const mfaError = msg('mfa-error', 'form-error', 'alert');
  const mfaOff = h('button', { type: 'button', class: 'danger', 'data-testid': 'mfa-disable', hidden: true, ...T('mfaTurnOff'), async onclick() {
    show(mfaError, false);
    const token = auth.accessToken();
    if (!token) return say(mfaError, t('passwordSignInAgain'));
    mfaOff.disabled = true;
    try {
      render(await request('POST', '/agent/me/mfa/disable', { access_token: token }));
    } catch (err) {
      say(mfaError, why(err));
    } finally {
      mfaOff.disabled = false;
    }
  } });
  const setup = createMfaSetup({ auth, onDone: (r) => render(r) });
  const mfaBox = h('div', { class: 'admin-box', 'data-testid': 'account-mfa' },
    h('h3', T('mfaTitle')), h('p', { class: 'help', ...T('mfaHelp') }), mfaState, setup.el, mfaOff, mfaError);
  function render(r) {
    const on = !!(r && r.mfa_enabled);
    mfaState.textContent = t(on ? 'mfaOn' : 'mfaOffState');
    mfaState.setAttribute('data-enabled', String(on));
    setup.reset();
    show(setup.el, !on);
    show(mfaOff, on && !(r && r.mfa_required));
  }
  async function loadMfa() {
    try {
      render(await request('GET', '/agent/me/mfa'));
    } catch (err) {
      say(mfaError, why(err));
    }
  }

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
    h('h2', T('account')), nameForm, emailForm, pwForm, mfaBox, out);

  return {
    el,
    show(on) {
      show(el, on);
      if (on) {
        name.value = me().name || '';
        emailCurrent.textContent = me().email || '';
        loadMfa();
      }
    },
  };
}
