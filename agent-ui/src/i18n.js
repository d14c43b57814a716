// The console's strings, switchable at run time. Static labels carry data-i18n* attributes so a
// language change rewrites them in place; dynamic ones re-render through onLang().
import langs from 'charla:langs';
import { store } from '../../ui-common/storage.js';
import { textSpan } from '../../ui-common/text.js';

const local = store('localStorage');
const KEY = 'charla.agent.lang';
const known = (c) => Object.prototype.hasOwnProperty.call(langs, c);
const subs = new Set();
let code = 'en';
let dict = langs.en;

export function t(key, vars) {
  const s = dict[key] != null ? dict[key] : langs.en[key] != null ? langs.en[key] : key;
  return String(s).replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] != null ? vars[k] : ''));
}
t.has = (key) => dict[key] != null || langs.en[key] != null;

export const lang = () => code;

// The server's sentences the console says in its own language (functions/team: sign-in, password,
// two-step codes), Cognito's own wording included, typo and all ("does not confirm to the configured
// password policy"). Any other answer shows in English, or as `fallback` in another language.
const SERVER = [
  [/password policy|Password (must|not long)/i, 'errPasswordPolicy'],
  [/^The new password was refused/, 'errPasswordRefused'],
  [/^Wrong email or password/, 'errWrongPassword'],
  [/^The current password is wrong/, 'errCurrentPassword'],
  [/sign-in (has ended|has expired)|session has ended/i, 'errSignInEnded'],
  [/^`code` is wrong or has expired/, 'errCodeWrong'],
  [/^Too many attempts/, 'errTooMany'],
];
export function serverText(e, fallback) {
  if (!e || !e.status) return t('network');
  const m = typeof e.message === 'string' && !/^HTTP \d+$/.test(e.message) ? e.message : '';
  const found = SERVER.find(([re]) => re.test(m));
  return found ? t(found[1]) : code === 'en' && m ? m : t(fallback);
}

// A refused request in the console's language: the catalogue's sentence for its code, naming the
// field at fault by the label `describe(field)` gives ({label, hint?}, or null for a field the page
// doesn't show), never by its key. Without such a field an English console keeps the server's own
// sentence, which is English already and says more ("You can't demote yourself") than the code's;
// other languages get the code's. A code the catalogue doesn't know shows the server's sentence.
export function errorText(e, describe) {
  if (!e || !e.status) return t('network');
  const m = typeof e.message === 'string' && !/^HTTP \d+$/.test(e.message) ? e.message : '';
  const found = SERVER.find(([re]) => re.test(m));
  if (found) return t(found[1]);
  const about = e.field && describe ? describe(e.field) : null;
  if (about && t.has('errField_' + e.code)) return t('errField_' + e.code, about) + (about.hint ? ' ' + about.hint : '');
  if (code === 'en' && m && !(e.field && /^`/.test(m))) return m;
  if (t.has('err_' + e.code)) return t('err_' + e.code);
  return m || t('generic');
}

// A message's text as this reader reads it: a system line by its code (functions/core/lines.py),
// in the console's language; anything else, and lines stored before codes, as stored.
export const lineText = (m) => (m.code && t.has('sys_' + m.code) ? t('sys_' + m.code, m.params) : m.text);

// A message's text element. A system line keeps its message, so reLines() can say it again in the
// language the agent switches to (transcripts of chats not on screen are outside the document, so
// each owner calls reLines on its own lists from onLang).
const LINES = new WeakMap();
export function lineSpan(m) {
  const el = textSpan(lineText(m));
  if (m.code) {
    LINES.set(el, m);
    el.setAttribute('data-line', m.code);
  }
  return el;
}
export function reLines(root) {
  for (const el of root.querySelectorAll('[data-line]')) {
    const m = LINES.get(el);
    if (m) el.replaceWith(lineSpan(m));
  }
}
export const languages = () => Object.keys(langs).map((c) => [c, langs[c]._name || c]);

export function initLang() {
  const prefs = [local.get(KEY), ...(navigator.languages || [navigator.language])];
  for (const p of prefs) {
    if (typeof p !== 'string') continue;
    const c = p.toLowerCase();
    if (known(c) || known(c.split('-')[0])) return apply(known(c) ? c : c.split('-')[0]);
  }
  apply('en');
}

export function setLang(c) {
  if (!known(c)) return;
  local.set(KEY, c);
  apply(c);
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n'));
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.getAttribute('data-i18n-label')));
  for (const el of document.querySelectorAll('[data-i18n-ph]')) el.setAttribute('placeholder', t(el.getAttribute('data-i18n-ph')));
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.setAttribute('title', t(el.getAttribute('data-i18n-title')));
  subs.forEach((fn) => fn());
}

function apply(c) {
  code = c;
  dict = langs[c];
  document.documentElement.lang = c;
}

export function onLang(fn) {
  subs.add(fn);
  return () => subs.delete(fn);
}

// Props for h(): a translated text, aria-label, placeholder or tooltip (title) that follows language changes.
export const T = (key) => ({ 'data-i18n': key, text: t(key) });
export const L = (key) => ({ 'data-i18n-label': key, 'aria-label': t(key) });
export const P = (key) => ({ 'data-i18n-ph': key, placeholder: t(key) });
export const H = (key) => ({ 'data-i18n-title': key, title: t(key) });
