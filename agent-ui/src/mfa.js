// Two-step sign-in (TOTP) set-up: POST /agent/me/mfa/setup gives a secret, shown as text and as an
// otpauth:// link (authenticator apps on a phone open it); POST /agent/me/mfa/verify with the app's
// current code turns it on. Used by Account and by the set-up screen an admin's requirement leads to.
import { h, show } from '../../ui-common/dom.js';
import { t, T, serverText } from './i18n.js';

export function createMfaSetup({ auth, onDone }) {
  const error = h('p', { class: 'form-error', 'data-testid': 'mfa-setup-error', role: 'alert', hidden: true });
  const fail = (e) => {
    error.textContent = serverText(e, 'generic');
    show(error, true);
  };
  const secret = h('code', { class: 'mfa-secret', 'data-testid': 'mfa-secret' });
  const uri = h('a', { class: 'mfa-uri', 'data-testid': 'mfa-uri', rel: 'noopener' });
  const code = h('input', {
    id: 'mfa-setup-code', 'data-testid': 'mfa-setup-code', inputmode: 'numeric', autocomplete: 'one-time-code',
    pattern: '[0-9]{6}', maxlength: 6, required: true,
  });
  const verify = h('button', { type: 'submit', class: 'primary', 'data-testid': 'mfa-setup-verify', ...T('mfaTurnOn') });
  const start = h('button', { type: 'button', class: 'primary', 'data-testid': 'mfa-setup-start', ...T('mfaStart'), onclick: begin });
  const steps = h('div', { class: 'mfa-steps', hidden: true },
    h('p', T('mfaStepApp')),
    h('p', { class: 'mfa-secret-line' }, secret),
    h('p', { class: 'help' }, h('span', T('mfaStepLink')), ' ', uri),
    h('p', { class: 'field' }, h('label', { for: 'mfa-setup-code', ...T('mfaStepCode') }), code),
    verify);
  const form = h('form', { class: 'mfa-setup', 'data-testid': 'mfa-setup', novalidate: true, onsubmit: confirm }, start, steps, error);

  async function begin() {
    show(error, false);
    const token = auth.accessToken();
    if (!token) return fail({ status: 400, message: t('passwordSignInAgain') });
    start.disabled = true;
    try {
      const r = await auth.request('POST', '/agent/me/mfa/setup', { access_token: token });
      secret.textContent = r.secret.replace(/(.{4})(?=.)/g, '$1 ');
      uri.textContent = r.otpauth_uri;
      if (/^otpauth:\/\//.test(r.otpauth_uri)) uri.href = r.otpauth_uri;
      show(start, false);
      show(steps, true);
      code.focus();
    } catch (e) {
      fail(e);
    } finally {
      start.disabled = false;
    }
  }

  async function confirm(e) {
    e.preventDefault();
    show(error, false);
    const value = code.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(value)) return fail({ status: 400, message: t('mfaCodeMissing') });
    verify.disabled = true;
    try {
      const r = await auth.request('POST', '/agent/me/mfa/verify', { access_token: auth.accessToken(), code: value });
      code.value = '';
      onDone(r);
    } catch (err) {
      fail(err);
    } finally {
      verify.disabled = false;
    }
  }

  return {
    el: form,
    reset() {
      show(start, true);
      show(steps, false);
      show(error, false);
      code.value = '';
    },
    begin,
  };
}

// The whole screen an agent sees when an admin requires two-step sign-in and they have none yet.
export function mfaRequiredScreen({ auth, langSelect, onDone, onSignOut }) {
  const setup = createMfaSetup({ auth, onDone });
  const out = h('button', { type: 'button', class: 'plain', 'data-testid': 'mfa-required-signout', ...T('logout'), onclick: onSignOut });
  const el = h('main', { class: 'login', 'data-testid': 'mfa-required' },
    h('div', { class: 'login-card' },
      h('h1', { class: 'brand', text: 'Charla' }),
      h('h2', T('mfaRequiredTitle')), h('p', T('mfaRequiredHelp')),
      setup.el,
      h('p', { class: 'login-lang' }, langSelect, ' ', out)));
  return { el, focus: () => setup.begin() };
}
