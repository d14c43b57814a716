// Admin > Team: everyone on the team (GET /admin/agents), an invitation form, and per agent the
// role, disable / enable, a new invitation mail, and removal (with a confirm step).
import { h, show } from '../../ui-common/dom.js';
import { t, T, errorText } from './i18n.js';

// The invitation's fields as the form labels them.
const LABELS = { email: 'email', name: 'name', role: 'role' };

export function createTeam({ request, me }) {
  const error = h('p', { class: 'form-error', 'data-testid': 'team-error', role: 'alert', hidden: true });
  const email = h('input', { id: 'invite-email', type: 'email', 'data-testid': 'invite-email', maxlength: 254, required: true });
  const name = h('input', { id: 'invite-name', 'data-testid': 'invite-name', maxlength: 100, required: true });
  const role = roleSelect('invite-role', 'agent');
  role.id = 'invite-role';
  const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'invite-send', ...T('inviteSend') });
  const field = (id, key, control) => h('p', { class: 'field' }, h('label', { for: id, ...T(key) }), control);
  const form = h('form', { class: 'admin-box admin-form', novalidate: true, onsubmit: invite },
    h('h3', T('inviteTitle')), h('p', { class: 'help', ...T('inviteHelp') }),
    field('invite-email', 'email', email), field('invite-name', 'name', name), field('invite-role', 'role', role), send);
  const rows = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'admin-table' },
    h('thead', null, h('tr', null, ...['name', 'email', 'role', 'statusCol', 'onlineCol', 'actionsCol'].map((k) => h('th', { scope: 'col', ...T(k) })))),
    rows));
  const el = h('section', { class: 'admin-sub', 'data-testid': 'admin-team' }, h('h2', T('team')), error, table, form);

  function fail(e) {
    error.textContent = errorText(e, (f) => (LABELS[f] ? { label: t(LABELS[f]) } : null));
    show(error, true);
  }

  function roleSelect(testid, value) {
    const s = h('select', { 'data-testid': testid }, ...['agent', 'admin'].map((r) => h('option', { value: r, ...T('role_' + r) })));
    s.value = value;
    return s;
  }

  async function act(fn) {
    show(error, false);
    try {
      await fn();
    } catch (e) {
      fail(e);
    }
    await load();
  }

  function row(a) {
    const self = a.id === me().id;
    const roleSel = roleSelect('agent-role', a.role);
    roleSel.setAttribute('aria-label', t('roleOf', { name: a.name || a.email }));
    roleSel.disabled = self;
    roleSel.onchange = () => act(() => request('PATCH', '/admin/agents/' + encodeURIComponent(a.id), { role: roleSel.value }));
    const disable = h('button', {
      type: 'button', class: 'plain', 'data-testid': 'agent-disable', 'data-disabled': String(!!a.disabled), disabled: self,
      ...T(a.disabled ? 'enable' : 'disable'),
      onclick: () => act(() => request('PATCH', '/admin/agents/' + encodeURIComponent(a.id), { disabled: !a.disabled })),
    });
    const reinvite = a.status === 'invited' ? h('button', {
      type: 'button', class: 'plain', 'data-testid': 'agent-reinvite', ...T('reinvite'),
      onclick: () => act(async () => {
        await request('POST', '/admin/agents/' + encodeURIComponent(a.id) + '/reinvite');
      }),
    }) : null;
    const confirm = h('span', { class: 'confirm', hidden: true },
      h('span', { text: t('removeConfirm', { name: a.name || a.email }) }),
      h('button', {
        type: 'button', class: 'danger', 'data-testid': 'agent-remove-confirm', ...T('remove'),
        onclick: () => act(() => request('DELETE', '/admin/agents/' + encodeURIComponent(a.id))),
      }),
      h('button', { type: 'button', class: 'plain', 'data-testid': 'agent-remove-cancel', ...T('cancel'), onclick: () => { show(confirm, false); show(remove, true); } }));
    const remove = h('button', {
      type: 'button', class: 'plain danger-text', 'data-testid': 'agent-remove', disabled: self, ...T('remove'),
      onclick: () => { show(remove, false); show(confirm, true); },
    });
    return h('tr', { 'data-testid': 'team-row', 'data-agent-id': a.id, 'data-status': a.status },
      h('td', { 'data-testid': 'agent-name', text: a.name || '' }),
      h('td', { 'data-testid': 'agent-email', text: a.email || '' }),
      h('td', null, roleSel),
      h('td', { 'data-testid': 'agent-status', 'data-status': a.status, text: t('status_' + a.status) }),
      h('td', { 'data-testid': 'agent-online', 'data-online': String(!!a.online), text: t(a.online ? 'online' : 'offline') }),
      h('td', { class: 'row-actions' }, disable, reinvite, remove, confirm));
  }

  let shown = [];
  function render() {
    rows.replaceChildren(...shown.map(row));
  }

  // Only the newest read is shown: one still in flight when an invitation was refused may have seen
  // the member that the refusal then removed.
  let reads = 0;
  async function load() {
    const read = ++reads;
    try {
      const agents = ((await request('GET', '/admin/agents')) || {}).agents || [];
      if (read !== reads) return;
      shown = agents;
      render();
    } catch (e) {
      if (read === reads) fail(e);
    }
  }

  async function invite(e) {
    e.preventDefault();
    show(error, false);
    if (!email.value.trim() || !name.value.trim()) return fail({ status: 400, message: t('inviteMissing') });
    send.disabled = true;
    try {
      await request('POST', '/admin/agents', { email: email.value.trim(), name: name.value.trim(), role: role.value });
      email.value = '';
      name.value = '';
      await load();
    } catch (err) {
      fail(err);
      await load(); // a refused invitation is undone on the server: show the team as it is now
    } finally {
      send.disabled = false;
    }
  }

  return { el, load, render };
}
