// Admin > Webhooks: registered webhooks, a form (URL + events) whose answer shows the signing
// secret once, delete, and each webhook's delivery log (one row per attempt, newest first).
import { h, show } from '../../ui-common/dom.js';
import { t, T, errorText } from './i18n.js';

const EVENTS = ['chat.started', 'chat.ended', 'chat.rated', 'message.created', 'ticket.created', 'ticket.updated'];

// The request's fields as the form labels them.
const LABELS = { url: 'webhookUrl', events: 'webhookEvents' };

export function createWebhooks({ request }) {
  const error = h('p', { class: 'form-error', 'data-testid': 'webhooks-error', role: 'alert', hidden: true });
  const url = h('input', { id: 'webhook-url', 'data-testid': 'webhook-url', type: 'url', maxlength: 2000, placeholder: 'https://', required: true });
  const events = h('fieldset', { class: 'events' }, h('legend', T('webhookEvents')));
  const add = h('button', { type: 'submit', class: 'primary', 'data-testid': 'webhook-add', ...T('webhookAdd') });
  const secret = h('div', { class: 'admin-box secret-once', hidden: true },
    h('p', T('webhookSecretOnce')), h('code', { class: 'secret', 'data-testid': 'webhook-secret' }));
  const form = h('form', { class: 'admin-box admin-form', novalidate: true, onsubmit: submit },
    h('h3', T('webhookNew')),
    h('p', { class: 'field' }, h('label', { for: 'webhook-url', ...T('webhookUrl') }), url), events, add);
  const list = h('ul', { class: 'webhooks', 'data-testid': 'webhook-list' });
  const empty = h('p', { class: 'empty', hidden: true, ...T('webhooksEmpty') });
  const el = h('section', { class: 'admin-sub', 'data-testid': 'admin-webhooks' }, h('h2', T('webhooks')), error, secret, list, empty, form);

  let hooks = [];
  let known = EVENTS;

  function fail(e) {
    error.textContent = errorText(e, (f) => (LABELS[f] ? { label: t(LABELS[f]) } : null));
    show(error, true);
  }

  function renderEvents() {
    const checked = new Set(Array.from(events.querySelectorAll('input:checked'), (i) => i.value));
    events.replaceChildren(events.firstChild, ...known.map((ev, i) => h('span', { class: 'check' },
      h('input', { type: 'checkbox', id: 'webhook-event-' + i, value: ev, 'data-testid': 'webhook-event', checked: checked.has(ev) }),
      h('label', { for: 'webhook-event-' + i, text: ev }))));
  }

  function deliveryLog(hook) {
    const rows = h('tbody');
    const more = h('button', { type: 'button', class: 'plain', hidden: true, ...T('loadMore') });
    const note = h('p', { class: 'empty', hidden: true, ...T('deliveriesEmpty') });
    const box = h('div', { class: 'deliveries', 'data-testid': 'webhook-deliveries-log', hidden: true },
      h('div', { class: 'table-wrap' }, h('table', { class: 'admin-table' },
        h('thead', null, h('tr', null, ...['deliveryTime', 'deliveryEvent', 'deliveryAttempt', 'deliveryStatus', 'deliveryOutcome'].map((k) => h('th', { scope: 'col', ...T(k) })))),
        rows)), note, more);
    let next = null;
    async function page(reset) {
      try {
        const q = next && !reset ? '?before=' + encodeURIComponent(next) : '';
        const r = await request('GET', '/admin/webhooks/' + encodeURIComponent(hook.id) + '/deliveries' + q);
        if (reset) rows.replaceChildren();
        for (const d of r.deliveries || []) {
          rows.append(h('tr', { 'data-testid': 'webhook-delivery', 'data-outcome': d.outcome || '', 'data-status-code': d.status_code == null ? '' : String(d.status_code) },
            h('td', null, h('time', { datetime: d.ts || '', text: d.ts ? new Date(d.ts).toLocaleString() : '' })),
            h('td', { text: d.event || '' }),
            h('td', { 'data-testid': 'delivery-attempt', text: String(d.attempt || '') }),
            h('td', { 'data-testid': 'delivery-status', text: d.status_code == null ? t('noAnswer') : String(d.status_code), title: d.error || '' }),
            h('td', { 'data-testid': 'delivery-outcome', text: t('outcome_' + d.outcome) })));
        }
        next = r.next || null;
        show(more, !!next);
        show(note, !rows.children.length);
      } catch (e) {
        fail(e);
      }
    }
    more.onclick = () => page(false);
    const toggle = h('button', {
      type: 'button', class: 'plain', 'data-testid': 'webhook-deliveries', 'aria-expanded': 'false', ...T('deliveries'),
      onclick() {
        const open = box.hidden;
        show(box, open);
        toggle.setAttribute('aria-expanded', String(open));
        if (open) page(true);
      },
    });
    return { toggle, box };
  }

  function render() {
    show(empty, !hooks.length);
    list.replaceChildren(...hooks.map((hook) => {
      const log = deliveryLog(hook);
      const confirm = h('span', { class: 'confirm', hidden: true },
        h('button', {
          type: 'button', class: 'danger', 'data-testid': 'webhook-delete-confirm', ...T('delete'),
          async onclick() {
            show(error, false);
            try {
              await request('DELETE', '/admin/webhooks/' + encodeURIComponent(hook.id));
            } catch (e) {
              fail(e);
            }
            load();
          },
        }),
        h('button', { type: 'button', class: 'plain', ...T('cancel'), onclick: () => { show(confirm, false); show(del, true); } }));
      const del = h('button', {
        type: 'button', class: 'plain danger-text', 'data-testid': 'webhook-delete', ...T('delete'),
        onclick: () => { show(del, false); show(confirm, true); },
      });
      return h('li', { class: 'admin-box', 'data-testid': 'webhook-row', 'data-webhook-id': hook.id },
        h('p', null, h('code', { class: 'url', text: hook.url })),
        h('p', { class: 'help', text: (hook.events || []).join(', ') }),
        h('p', { class: 'row-actions' }, log.toggle, del, confirm), log.box);
    }));
  }

  async function load() {
    try {
      const r = (await request('GET', '/admin/webhooks')) || {};
      hooks = r.webhooks || [];
      if (r.events && r.events.length) known = r.events;
      renderEvents();
      render();
    } catch (e) {
      fail(e);
    }
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    const chosen = Array.from(events.querySelectorAll('input:checked'), (i) => i.value);
    if (!url.value.trim() || !chosen.length) return fail({ status: 400, message: t('webhookMissing') });
    add.disabled = true;
    try {
      const made = await request('POST', '/admin/webhooks', { url: url.value.trim(), events: chosen });
      secret.querySelector('code').textContent = made.secret || '';
      show(secret, true);
      url.value = '';
      for (const i of events.querySelectorAll('input:checked')) i.checked = false;
      await load();
    } catch (err) {
      fail(err);
    } finally {
      add.disabled = false;
    }
  }

  renderEvents();
  // Leaving the view forgets the secret: it is shown once.
  return { el, load, render, hide: () => show(secret, false) };
}
