// Admin > Bans: bans in force (GET /admin/bans), a form to ban an IP address / CIDR range or a
// visitor id, and unban (DELETE /admin/bans/{id}).
import { h, show } from '../../ui-common/dom.js';
import { t, T, errorText } from './i18n.js';

// The request's fields as the form labels them.
const LABELS = { ip: 'banTarget', visitor_id: 'banTarget', reason: 'banReason', hours: 'banHours' };

export function createBans({ request }) {
  const error = h('p', { class: 'form-error', 'data-testid': 'bans-error', role: 'alert', hidden: true });
  const kind = h('select', { id: 'ban-kind', 'data-testid': 'ban-kind' },
    h('option', { value: 'ip', ...T('banKindIp') }), h('option', { value: 'visitor', ...T('banKindVisitor') }));
  const target = h('input', { id: 'ban-target', 'data-testid': 'ban-target', maxlength: 200, required: true });
  const reason = h('input', { id: 'ban-reason', 'data-testid': 'ban-reason', maxlength: 500, required: true });
  const hours = h('input', { id: 'ban-hours', 'data-testid': 'ban-hours', type: 'number', min: 0, max: 8760, step: 'any' });
  const add = h('button', { type: 'submit', class: 'primary', 'data-testid': 'ban-add', ...T('banAdd') });
  const field = (fid, key, control) => h('p', { class: 'field' }, h('label', { for: fid, ...T(key) }), control);
  const form = h('form', { class: 'admin-box admin-form', novalidate: true, onsubmit: submit },
    h('h3', T('banNew')), field('ban-kind', 'banKind', kind), field('ban-target', 'banTarget', target),
    field('ban-reason', 'banReason', reason), field('ban-hours', 'banHours', hours), add);
  const rows = h('tbody');
  const empty = h('p', { class: 'empty', 'data-testid': 'bans-empty', hidden: true, ...T('bansEmpty') });
  const el = h('section', { class: 'admin-sub', 'data-testid': 'admin-bans' }, h('h2', T('bans')), error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'admin-table' },
      h('thead', null, h('tr', null, ...['banTarget', 'banReason', 'banExpires', 'banBy', 'actionsCol'].map((k) => h('th', { scope: 'col', ...T(k) })))),
      rows)), empty, form);

  let bans = [];
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : t('banNever'));

  function fail(e) {
    error.textContent = errorText(e, (f) => (LABELS[f] ? { label: t(LABELS[f]) } : null));
    show(error, true);
  }

  function render() {
    show(empty, !bans.length);
    rows.replaceChildren(...bans.map((b) => h('tr', { 'data-testid': 'ban-row', 'data-ban-id': b.id, 'data-kind': b.kind },
      h('td', null, h('span', { class: 'tag', text: t(b.kind === 'ip' ? 'banKindIp' : 'banKindVisitor') }), ' ', h('span', { 'data-testid': 'ban-target-cell', text: b.target })),
      h('td', { 'data-testid': 'ban-reason-cell', text: b.reason || '' }),
      h('td', { 'data-testid': 'ban-expires', text: when(b.expires_at) }),
      h('td', { text: (b.created_by && (b.created_by.name || b.created_by.id)) || '' }),
      h('td', null, h('button', {
        type: 'button', class: 'plain', 'data-testid': 'unban', ...T('unban'),
        async onclick() {
          show(error, false);
          try {
            await request('DELETE', '/admin/bans/' + encodeURIComponent(b.id));
          } catch (e) {
            fail(e);
          }
          load();
        },
      })))));
  }

  async function load() {
    try {
      bans = ((await request('GET', '/admin/bans')) || {}).bans || [];
      render();
    } catch (e) {
      fail(e);
    }
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    if (!target.value.trim() || !reason.value.trim()) return fail({ status: 400, message: t('banMissing') });
    const body = { reason: reason.value.trim() };
    body[kind.value === 'ip' ? 'ip' : 'visitor_id'] = target.value.trim();
    if (hours.value.trim()) body.hours = Number(hours.value);
    add.disabled = true;
    try {
      await request('POST', '/admin/bans', body);
      target.value = '';
      reason.value = '';
      hours.value = '';
      await load();
    } catch (err) {
      fail(err);
    } finally {
      add.disabled = false;
    }
  }

  return { el, load, render };
}
