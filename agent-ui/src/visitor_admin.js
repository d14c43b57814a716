// Admins only, under the Visitors list: the identity secret sites sign visitors' emails with,
// tracking and IP settings, automatic greeting rules (all through /admin/...), and the export and
// erasure of one visitor's data.
import { h, show } from '../../ui-common/dom.js';
import { freshLoads } from './fresh_loads.js';
import { t, T, errorText } from './i18n.js';
import { saveBlob } from './download.js';

const MAX_RULES = 20; // the server's limit

export function createVisitorAdmin({ request, flash }) {
  // -- the identity secret ---------------------------------------------------------------------
  const secret = h('code', { class: 'secret', 'data-testid': 'identity-secret-value', hidden: true });
  const reveal = h('button', {
    type: 'button', class: 'plain', 'data-testid': 'identity-secret-show', ...T('showSecret'),
    async onclick() {
      try {
        secret.textContent = (await request('GET', '/admin/identity-secret')).secret;
        show(secret, true);
        show(reveal, false);
      } catch (e) {
        flash(t('loadFailed'));
      }
    },
  });
  const identity = h('section', { class: 'admin-box', 'data-testid': 'identity-secret' },
    h('h3', T('identitySecret')), h('p', { class: 'help', ...T('identitySecretHelp') }), reveal, secret);

  // -- tracking, IP addresses, greeting rules --------------------------------------------------
  const tracking = h('input', { type: 'checkbox', id: 'tracking-toggle', 'data-testid': 'tracking-toggle' });
  const ipMode = h('select', { id: 'ip-mode', 'data-testid': 'ip-mode' },
    ...['truncate', 'none', 'full'].map((m) => h('option', { value: m, ...T('ip_' + m) })));
  const rules = h('ol', { class: 'rules', 'data-testid': 'greeting-rules' });
  const readers = new WeakMap(); // rule row -> what it holds
  const add = h('button', { type: 'button', class: 'plain', 'data-testid': 'rule-add', ...T('addRule'), onclick: () => addRule() });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary', 'data-testid': 'visitor-settings-save', ...T('save') });
  const form = h('form', { class: 'admin-box', 'data-testid': 'visitor-settings', onsubmit: submit },
    h('h3', T('visitorSettings')),
    h('p', { class: 'check' }, tracking, h('label', { for: 'tracking-toggle', ...T('trackingLabel') })),
    h('p', { class: 'field' }, h('label', { for: 'ip-mode', ...T('ipModeLabel') }), ipMode),
    h('h4', T('greetingRules')), h('p', { class: 'help', ...T('greetingRulesHelp') }), rules, add, error, save);

  function addRule(rule) {
    if (rules.children.length >= MAX_RULES) return;
    const r = rule || { url_contains: '', after_seconds: 10, message: '', max_times: 1 };
    const n = rules.children.length + '-' + Math.random().toString(36).slice(2, 6);
    const input = (key, testid, props) => h('input', { id: 'rule-' + key + '-' + n, 'data-testid': testid, ...props });
    const url = input('url', 'rule-url', { value: r.url_contains, maxlength: 200 });
    const after = input('after', 'rule-after', { type: 'number', min: 0, max: 3600, value: r.after_seconds, required: true });
    const max = input('max', 'rule-max', { type: 'number', min: 1, max: 10, value: r.max_times, required: true });
    const message = h('textarea', { id: 'rule-message-' + n, 'data-testid': 'rule-message', rows: 2, maxlength: 500, required: true });
    message.value = r.message;
    const field = (key, label, control) => h('span', { class: 'field' }, h('label', { for: 'rule-' + key + '-' + n, ...T(label) }), control);
    const li = h('li', { class: 'rule-row', 'data-testid': 'rule-row' },
      field('url', 'ruleUrl', url), field('after', 'ruleAfter', after), field('max', 'ruleMax', max),
      field('message', 'ruleMessage', message),
      h('button', { type: 'button', class: 'plain danger-text', 'data-testid': 'rule-remove', ...T('removeRule'), onclick: () => li.remove() }));
    readers.set(li, () => ({
      url_contains: url.value.trim(), after_seconds: Number(after.value), message: message.value.trim(), max_times: Number(max.value),
    }));
    rules.append(li);
  }

  const beginLoad = freshLoads(form);

  async function load() {
    const fresh = beginLoad();
    try {
      const s = await request('GET', '/admin/settings');
      if (!fresh()) return;
      tracking.checked = s.tracking !== false;
      ipMode.value = s.ip_mode || 'truncate';
      rules.replaceChildren();
      (s.greetings || []).forEach(addRule);
    } catch (e) {
      flash(t('loadFailed'));
    }
  }

  // `greetings[2].after_seconds`: the second rule's "After (seconds)"; `ip_mode` and `tracking` by their labels.
  const RULE_LABELS = { url_contains: 'ruleUrl', after_seconds: 'ruleAfter', max_times: 'ruleMax', message: 'ruleMessage' };
  function ruleField(field) {
    const m = /^greetings\[(\d+)\]\.(\w+)$/.exec(field);
    if (m && RULE_LABELS[m[2]]) return { label: t('ruleLabel', { n: m[1], label: t(RULE_LABELS[m[2]]) }) };
    if (field === 'ip_mode') return { label: t('ipModeLabel') };
    return null;
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    save.disabled = true;
    try {
      await request('PATCH', '/admin/settings', {
        tracking: tracking.checked, ip_mode: ipMode.value, greetings: Array.from(rules.children, (li) => readers.get(li)()),
      });
      flash(t('settingsSaved'));
    } catch (err) {
      error.textContent = errorText(err, ruleField);
      show(error, true);
    } finally {
      save.disabled = false;
    }
  }

  return { el: h('div', { class: 'visitor-admin' }, identity, form), load };
}

// Export (a JSON download) and erase everything stored about one visitor.
export function privacyActions({ request, flash, visitorId, onErased }) {
  const exportBtn = h('button', {
    type: 'button', class: 'plain', 'data-testid': 'visitor-export', ...T('exportData'),
    async onclick() {
      try {
        const data = await request('GET', '/admin/visitors/' + encodeURIComponent(visitorId) + '/export');
        saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), 'charla-visitor-' + visitorId + '.json');
      } catch (e) {
        flash(t('loadFailed'));
      }
    },
  });
  const eraseBtn = h('button', {
    type: 'button', class: 'plain danger-text', 'data-testid': 'visitor-erase', ...T('eraseData'),
    async onclick() {
      if (!window.confirm(t('eraseConfirm'))) return;
      try {
        await request('DELETE', '/admin/visitors/' + encodeURIComponent(visitorId));
        flash(t('erased'));
        if (onErased) onErased();
      } catch (e) {
        flash(e && e.message ? e.message : t('generic'));
      }
    },
  });
  return h('span', { class: 'privacy-actions' }, exportBtn, eraseBtn);
}
