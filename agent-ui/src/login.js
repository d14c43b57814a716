// Sign-in, and the "choose a new password" step Cognito asks for on a first sign-in.
import { h, show } from '../../ui-common/dom.js';
import { t, T } from './i18n.js';

export function loginScreen({ auth, langSelect, notice, onSignedIn }) {
  const error = h('p', { class: 'login-error', 'data-testid': 'login-error', role: 'alert', hidden: true });
  const fail = (text) => {
    error.textContent = text;
    show(error, true);
  };
  const failWith = (e) => fail(e.status && e.message && !/^HTTP \d+$/.test(e.message) ? e.message : t(e.status ? 'loginFailed' : 'network'));

  const field = (label, input) => h('p', { class: 'field' }, h('label', { for: input.id, ...T(label) }), input);
  const email = h('input', { id: 'login-email', type: 'email', autocomplete: 'username', 'data-testid': 'login-email', required: true });
  const password = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', 'data-testid': 'login-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit', ...T('signIn') });

  const newPassword = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', 'data-testid': 'new-password', required: true });
  let challengeSession = null;

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
      const challenge = await auth.login(email.value.trim(), password.value);
      if (challenge && challenge.challenge === 'NEW_PASSWORD_REQUIRED') {
        challengeSession = challenge.session;
        show(loginForm, false);
        show(challengeForm, true);
        newPassword.focus();
      } else if (challenge) {
        fail(t('loginFailed'));
      } else {
        onSignedIn();
      }
    });
  }

  function setPassword(e) {
    e.preventDefault();
    if (!newPassword.value) return fail(t('loginMissing'));
    busy(challengeForm, async () => {
      await auth.answerChallenge(email.value.trim(), challengeSession, newPassword.value);
      onSignedIn();
    });
  }

  if (notice) fail(notice);
  const el = h('main', { class: 'login' },
    h('div', { class: 'login-card' },
      h('h1', { class: 'brand', text: 'Charla' }),
      loginForm, challengeForm, error,
      h('p', { class: 'login-lang' }, langSelect)));
  return { el, focus: () => email.focus() };
}
