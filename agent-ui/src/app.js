// Entry point of the agent console: runtime config, then the sign-in screen or the console.
import { h } from '../../ui-common/dom.js';
import { createAuth } from './auth.js';
import { initLang, languages, lang, setLang, t, L } from './i18n.js';
import { loginScreen } from './login.js';
import { mfaRequiredScreen } from './mfa.js';
import { createConsole } from './console.js';

// runtime.json sits next to app.js (the server writes it), whatever URL the page has.
const here = new URL('.', (document.currentScript && document.currentScript.src) || location.href).href;
const root = document.getElementById('app') || document.body;
let auth;
let runtime;
let current = null;

initLang();
const langSelect = h('select', { class: 'lang', 'data-testid': 'lang', ...L('language'), onchange() { setLang(langSelect.value); if (current) tellLang(); } },
  ...languages().map(([code, name]) => h('option', { value: code, text: name })));
langSelect.value = lang();

main();

async function main() {
  try {
    const r = await fetch(here + 'runtime.json', { cache: 'no-store' });
    runtime = await r.json();
  } catch (e) {
    root.replaceChildren(h('p', { class: 'fatal', role: 'alert', text: t('network') }));
    return;
  }
  // Refused tokens (expired, revoked, agent disabled or removed) end here, with the sign-in screen.
  auth = createAuth(runtime.api, () => signedOut(t('sessionEnded')), mfaRequired);
  if (auth.signedIn()) start();
  else signedOut();
}

function signedOut(message) {
  if (current) current.destroy();
  current = null;
  const screen = loginScreen({ auth, langSelect, notice: message, onSignedIn: (r) => (r && r.mfaSetup ? mfaRequired() : start()) });
  root.replaceChildren(screen.el);
  screen.focus();
}

// An admin requires two-step sign-in and this agent has none: nothing else works until it is set up.
function mfaRequired() {
  if (current) current.destroy();
  current = null;
  if (root.querySelector('[data-testid="mfa-required"]')) return;
  const screen = mfaRequiredScreen({ auth, langSelect, onDone: start, onSignOut: () => { auth.logout(); signedOut(); } });
  root.replaceChildren(screen.el);
  screen.focus();
}

async function start() {
  let me;
  try {
    me = await auth.request('GET', '/agent/me');
  } catch (e) {
    if (e.status === 401) return; // createAuth's onExpired already showed the sign-in screen
    if (e.code === 'mfa_required') return; // createAuth's onMfaRequired already showed the set-up
    return signedOut(e.status ? e.message : t('network'));
  }
  if (current) current.destroy();
  current = createConsole({ root, auth, runtime, me, langSelect, onLogout: () => { current = null; signedOut(); } });
  if (me.language !== lang()) tellLang();
}

// The server keeps the console's language, which the agent's mails (the daily summary) speak too.
function tellLang() {
  auth.request('PATCH', '/agent/me', { language: lang() }).catch(() => {});
}
