// Sign-in, the "choose a new password" step Cognito asks for on a first sign-in, and the TOTP code
// step of an agent with two-step sign-in. onSignedIn(r): r.mfaSetup when an admin requires it first.
import { h, show } from '../../ui-common/dom.js';
import { t, T, serverText } from './i18n.js';

export function loginScreen({ auth, langSelect, notice, onSignedIn }) {
  const error = h('p', { class: 'login-error', 'data-testid': 'login-error', role: 'alert', hidden: true });
  const fail = (text) => {
    error.textContent = text;
    show(error, true);
  };
  const failWith = (e) => fail(serverText(e, 'loginFailed'));

  const field = (label, input) => h('p', { class: 'field' }, h('label', { for: input.id, ...T(label) }), input);
  const email = h('input', { id: 'login-email', type: 'email', autocomplete: 'username', 'data-testid': 'login-email', required: true });
  const password = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', 'data-testid': 'login-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit', ...T('signIn') });

  const newPassword = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', 'data-testid': 'new-password', required: true });
  let challengeSession = null;

  const mfaCode = h('input', {
    id: 'mfa-code', 'data-testid': 'mfa-code', inputmode: 'numeric', autocomplete: 'one-time-code',
    pattern: '[0-9]{6}', maxlength: 6, required: true,
  });
  const mfaForm = h('form', { class: 'login-form', novalidate: true, hidden: true, 'data-testid': 'mfa-form', onsubmit: sendCode },
    h('h2', T('mfaCodeTitle')), h('p', T('mfaCodeHelp')),
    field('mfaCode', mfaCode),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'mfa-code-submit', ...T('mfaVerify') }));

  const loginForm = h('form', { class: 'login-form', novalidate: true, onsubmit: signIn },
    field('email', email), field('password', password), submit);
  const challengeForm = h('form', { class: 'login-form', novalidate: true, hidden: true, onsubmit: setPassword },
    h('h2', T('newPasswordTitle')), h('p', T('newPasswordHelp')),
    field('newPassword', newPassword),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'new-password-submit', ...T('setPassword') }));

  async function busy(form, fn) {
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    show(error, false);
    try { await fn(); } catch (e) { failWith(e); } finally { button.disabled = false; }
  }

  function signIn(e) {
    e.preventDefault();
    if (!email.value.trim() || !password.value) return fail(t('loginMissing'));
    busy(loginForm, async () => {
      next(await auth.login(email.value.trim(), password.value));
    });
  }

  function next(r) {
    password.value = '';
    if (r && r.challenge === 'NEW_PASSWORD_REQUIRED') {
      challengeSession = r.session;
      show(loginForm, false);
      show(challengeForm, true);
      newPassword.focus();
    } else if (r && r.challenge === 'SOFTWARE_TOKEN_MFA') {
      challengeSession = r.session;
      show(loginForm, false);
      show(challengeForm, false);
      show(mfaForm, true);
      mfaCode.focus();
    } else if (r && r.challenge) {
      fail(t('loginFailed'));
    } else {
      onSignedIn(r || {});
    }
  }

  function setPassword(e) {
    e.preventDefault();
    if (!newPassword.value) return fail(t('loginMissing'));
    busy(challengeForm, async () => next(await auth.answerChallenge(email.value.trim(), challengeSession, newPassword.value)));
  }

  function sendCode(e) {
    e.preventDefault();
    const value = mfaCode.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(value)) return fail(t('mfaCodeMissing'));
    busy(mfaForm, async () => {
      try {
        next(await auth.answerCode(email.value.trim(), challengeSession, value));
      } catch (err) {
        mfaCode.value = '';
        if (err.status === 401) { // the sign-in expired: start again from the password
          show(mfaForm, false);
          show(loginForm, true);
        }
        throw err;
      }
    });
  }

  if (notice) fail(notice);
  const el = h('main', { class: 'login' },
    h('div', { class: 'login-card' },
      h('h1', { class: 'brand', text: 'Charla' }),
      loginForm, challengeForm, mfaForm, error,
      h('p', { class: 'login-lang' }, langSelect)));
  return { el, focus: () => email.focus() };
}
