// Admin > Settings: one form for every setting (GET / PATCH /admin/settings). The server checks the
// whole change and refuses all of it with a 400 whose `Field` names the bad key; the form says what is
// wrong in its own language, by the setting's label, next to its control.
// The automatic greeting rules have their own editor under Visitors (visitor_admin.js).
import { h, show } from '../../ui-common/dom.js';
import { freshLoads } from './fresh_loads.js';
import { t, T, errorText } from './i18n.js';

const NUMBERS = [
  ['max_chats_per_agent', 1, 50],
  ['wait_threshold_s', 1, 3600],
  ['unanswered_timeout_s', 10, 3600],
  ['queue_timeout_min', 1, 240],
  ['idle_timeout_min', 1, 1440],
  ['visitor_left_timeout_min', 1, 1440],
  ['summary_hour', 0, 23],
  ['retention_days', 1, 3650],
  ['chat_file_max_mb', 1, 10],
];
const OWN_SECTION = ['summary_hour', 'retention_days']; // numbers shown under Summary and Privacy
const CHOICES = {
  prechat: ['anonymous', 'name_email'],
  position: ['right', 'left'],
  language: ['en', 'es'],
  ip_mode: ['truncate', 'none', 'full'],
};
const FIELD_TYPES = ['text', 'email', 'textarea'];
const MAX_FIELDS = 10;

export function createSettings({ request, showVisitors }) {
  const id = (key) => 'setting-' + key;
  const controls = {};
  const field = (key, control, help) => h('p', { class: 'field' },
    h('label', { for: id(key), ...T('set_' + key) }), control, help ? h('span', { class: 'help', ...T(help) }) : null);
  const input = (key, props) => (controls[key] = h('input', { id: id(key), name: key, 'data-testid': id(key), ...props }));
  const check = (key) => h('p', { class: 'check' }, input(key, { type: 'checkbox' }), h('label', { for: id(key), ...T('set_' + key) }));
  const select = (key) => (controls[key] = h('select', { id: id(key), name: key, 'data-testid': id(key) },
    ...CHOICES[key].map((v) => h('option', { value: v, ...T('opt_' + key + '_' + v) }))));

  // -- the offline form's fields: label, type, required; add and remove ------------------------
  const fieldRows = h('ol', { class: 'rules', 'data-testid': 'offline-fields' });
  const readers = new WeakMap();
  const addField = h('button', { type: 'button', class: 'plain', 'data-testid': 'offline-field-add', ...T('addField'), onclick: () => addRow() });
  let seq = 0;
  let esLabels = {};
  function addRow(f) {
    if (fieldRows.children.length >= MAX_FIELDS) return;
    const n = ++seq;
    const label = h('input', { id: 'of-label-' + n, 'data-testid': 'offline-field-label', maxlength: 100, value: (f && f.label) || '' });
    // The Spanish label (settings.translations.es.labels), shown to visitors whose widget speaks Spanish.
    const labelEs = h('input', { id: 'of-label-es-' + n, 'data-testid': 'offline-field-label-es', maxlength: 60, value: (f && esLabels[f.name]) || '' });
    const type = h('select', { id: 'of-type-' + n, 'data-testid': 'offline-field-type' }, ...FIELD_TYPES.map((v) => h('option', { value: v, ...T('ftype_' + v) })));
    type.value = (f && f.type) || 'text';
    const required = h('input', { id: 'of-req-' + n, type: 'checkbox', 'data-testid': 'offline-field-required' });
    required.checked = !!(f && f.required);
    const li = h('li', { class: 'rule-row', 'data-testid': 'offline-field' },
      h('span', { class: 'field' }, h('label', { for: 'of-label-' + n, ...T('fieldLabel') }), label),
      h('span', { class: 'field' }, h('label', { for: 'of-label-es-' + n, ...T('fieldLabelEs') }), labelEs),
      h('span', { class: 'field' }, h('label', { for: 'of-type-' + n, ...T('fieldType') }), type),
      h('span', { class: 'check' }, required, h('label', { for: 'of-req-' + n, ...T('fieldRequired') })),
      h('button', { type: 'button', class: 'plain danger-text', 'data-testid': 'offline-field-remove', ...T('removeRule'), onclick: () => li.remove() }));
    readers.set(li, () => ({ name: f && f.name, label: label.value.trim(), type: type.value, required: required.checked, es: labelEs.value.trim() }));
    fieldRows.append(li);
  }
  // Names stay as stored; a new field's name comes from its label (unique, as the server wants).
  function offlineFields() {
    const all = Array.from(fieldRows.children, (li) => readers.get(li)());
    const used = new Set(all.filter((f) => f.name).map((f) => f.name));
    return all.map((f) => {
      if (f.name) return f;
      let base = f.label.toLowerCase().normalize('NFD').replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 28);
      if (!/^[a-z]/.test(base)) base = 'field' + (base ? '_' + base : '');
      let name = base;
      for (let i = 2; used.has(name); i++) name = base + '_' + i;
      used.add(name);
      return { ...f, name };
    });
  }

  const error = h('p', { class: 'form-error', 'data-testid': 'settings-error', role: 'alert', hidden: true });
  const saved = h('p', { class: 'form-ok', 'data-testid': 'settings-saved', role: 'status', hidden: true, ...T('settingsSaved') });
  const save = h('button', { type: 'submit', class: 'primary', 'data-testid': 'settings-save', ...T('save') });
  const origins = (controls.allowed_origins = h('textarea', { id: id('allowed_origins'), 'data-testid': id('allowed_origins'), rows: 3 }));
  const welcome = (controls.welcome = h('textarea', { id: id('welcome'), 'data-testid': id('welcome'), rows: 2, maxlength: 300 }));
  const welcomeEs = h('textarea', { id: id('welcome_es'), 'data-testid': id('welcome_es'), rows: 2, maxlength: 300 });
  const urlParams = input('tracked_url_params', { maxlength: 1400 });

  const form = h('form', { class: 'admin-box admin-form', novalidate: true, onsubmit: submit },
    h('h3', T('setChats')),
    field('prechat', select('prechat')),
    ...NUMBERS.filter(([k]) => !OWN_SECTION.includes(k)).map(([k, min, max]) => field(k, input(k, { type: 'number', min, max, step: 1 }))),
    check('sneak_peek'),
    check('visitor_uploads'),
    h('h3', T('setOffline')), h('p', { class: 'help', ...T('setOfflineHelp') }), fieldRows, addField,
    h('h3', T('setWidget')),
    field('allowed_origins', origins, 'originsHelp'),
    field('color', input('color', { type: 'color' })),
    field('position', select('position')),
    field('welcome', welcome),
    field('welcome_es', welcomeEs),
    field('language', select('language')),
    h('h3', T('setSummary')),
    field('summary_hour', input('summary_hour', { type: 'number', min: 0, max: 23, step: 1 })),
    field('summary_timezone', input('summary_timezone', { maxlength: 64 })),
    field('support_email', input('support_email', { type: 'email', maxlength: 254 })),
    h('h3', T('setPrivacy')),
    check('tracking'),
    field('ip_mode', select('ip_mode')),
    h('h3', T('setSecurity')),
    check('require_mfa'), h('p', { class: 'help', ...T('requireMfaHelp') }),
    field('tracked_url_params', urlParams, 'urlParamsHelp'),
    field('retention_days', input('retention_days', { type: 'number', min: 1, max: 3650, step: 1 }), 'retentionHelp'),
    h('p', null, h('button', { type: 'button', class: 'plain', 'data-testid': 'settings-greetings-link', ...T('greetingsLink'), onclick: showVisitors })),
    error, saved, save);
  const el = h('section', { class: 'admin-sub', 'data-testid': 'admin-settings' }, h('h2', T('settings')), form);

  function fill(s) {
    for (const [k] of NUMBERS) controls[k].value = s[k] != null ? String(s[k]) : '';
    for (const k of Object.keys(CHOICES)) controls[k].value = s[k];
    controls.sneak_peek.checked = !!s.sneak_peek;
    controls.visitor_uploads.checked = s.visitor_uploads !== false;
    controls.tracking.checked = s.tracking !== false;
    controls.require_mfa.checked = !!s.require_mfa;
    origins.value = (s.allowed_origins || []).join('\n');
    urlParams.value = (s.tracked_url_params || []).join(', ');
    controls.color.value = s.color || '#2563eb';
    welcome.value = s.welcome || '';
    const es = (s.translations && s.translations.es) || {};
    welcomeEs.value = es.welcome || '';
    esLabels = es.labels || {};
    controls.summary_timezone.value = s.summary_timezone || '';
    controls.support_email.value = s.support_email || '';
    fieldRows.replaceChildren();
    (s.offline_form_fields || []).forEach(addRow);
  }

  // Numbers that aren't numbers go as typed, so the server's message names the key.
  const num = (v) => (v.trim() !== '' && !isNaN(Number(v)) ? Number(v) : v);

  function values() {
    const out = {};
    for (const [k] of NUMBERS) out[k] = num(controls[k].value);
    for (const k of Object.keys(CHOICES)) out[k] = controls[k].value;
    out.sneak_peek = controls.sneak_peek.checked;
    out.visitor_uploads = controls.visitor_uploads.checked;
    out.tracking = controls.tracking.checked;
    out.require_mfa = controls.require_mfa.checked;
    out.allowed_origins = origins.value.split('\n').map((o) => o.trim()).filter(Boolean);
    out.tracked_url_params = urlParams.value.split(',').map((p) => p.trim()).filter(Boolean);
    out.color = controls.color.value;
    out.welcome = welcome.value;
    out.summary_timezone = controls.summary_timezone.value.trim();
    out.support_email = controls.support_email.value.trim();
    const fields = offlineFields();
    out.offline_form_fields = fields.map(({ es, ...f }) => f);
    const labels = {};
    for (const f of fields) if (f.es) labels[f.name] = f.es;
    out.translations = { es: { welcome: welcomeEs.value, labels } };
    return out;
  }

  const beginLoad = freshLoads(form);

  async function load() {
    show(error, false);
    const fresh = beginLoad();
    try {
      const s = await request('GET', '/admin/settings');
      if (fresh()) fill(s);
    } catch (e) {
      error.textContent = t('loadFailed');
      show(error, true);
    }
  }

  // A refused key as the admin knows it: the setting's label, what the form expects there, and its
  // control. Nested keys (`translations.es.welcome`, `offline_form_fields`) belong to one control.
  const hints = {
    summary_timezone: () => t('hintTimezone'),
    support_email: () => t('hintEmail'),
    allowed_origins: () => t('originsHelp'),
    tracked_url_params: () => t('urlParamsHelp'),
  };
  for (const [k, min, max] of NUMBERS) hints[k] = () => t('hintWhole', { min, max });
  function setting(field) {
    const top = String(field).split(/[.[]/)[0];
    if (/^translations\.es\.welcome$/.test(field)) return { label: t('set_welcome_es'), control: welcomeEs };
    if (top === 'offline_form_fields' || /^translations\.es\.labels/.test(field)) return { label: t('setOffline'), control: fieldRows };
    if (!t.has('set_' + top) || !controls[top]) return null;
    return { label: t('set_' + top), hint: hints[top] ? hints[top]() : '', control: controls[top] };
  }

  const fieldMsg = h('span', { class: 'field-error', id: 'settings-field-error', 'data-testid': 'settings-field-error' });
  function clearFieldError() {
    fieldMsg.remove();
    for (const c of form.querySelectorAll('[aria-invalid]')) {
      c.removeAttribute('aria-invalid');
      c.removeAttribute('aria-describedby');
    }
  }
  // The message goes next to the control, which gets focus; the bottom of the form points up to it.
  function fieldError(err, message) {
    const at = err && err.field ? setting(err.field) : null;
    if (!at) return message;
    fieldMsg.textContent = message;
    (at.control.closest('.field, .check') || at.control).after(fieldMsg);
    at.control.setAttribute('aria-invalid', 'true');
    at.control.setAttribute('aria-describedby', 'settings-field-error');
    if (at.control.focus) at.control.focus();
    return t('checkField', { label: at.label });
  }

  async function submit(e) {
    e.preventDefault();
    clearFieldError();
    show(error, false);
    show(saved, false);
    save.disabled = true;
    try {
      fill(await request('PATCH', '/admin/settings', values()));
      show(saved, true);
    } catch (err) {
      error.textContent = fieldError(err, errorText(err, setting));
      show(error, true);
    } finally {
      save.disabled = false;
    }
  }

  return { el, load };
}
