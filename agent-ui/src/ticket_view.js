// One ticket: header (requester, source, created, assignee, editable title, status), the timeline
// (messages, internal notes, changes), reply and note boxes, and attachments (presigned S3 POST up,
// presigned GET down). Every edit sends the version it saw; a 409 shows why and reloads.
import { h, show } from '../../ui-common/dom.js';
import { textSpan } from '../../ui-common/text.js';
import { t, T, L, P, onLang, errorText } from './i18n.js';
import { STATUSES, when, requesterLabel } from './tickets.js';
import { createTagPicker } from './tags.js';

const enc = encodeURIComponent;

export function createTicketView({ request, me, flash, changed, tags }) {
  let tk = null; // the ticket shown (the server's view)
  let events = [];
  let pending = []; // completed uploads waiting for the next reply or note
  let team = null; // agent id -> name, for assignee and author names
  let req = 0;

  const title = h('input', {
    type: 'text', class: 'ticket-title', 'data-testid': 'ticket-title', maxlength: 200, ...L('ticketTitle'),
    onchange: () => title.value.trim() && title.value.trim() !== tk.subject && patch({ title: title.value.trim() }),
    onkeydown(e) { if (e.key === 'Enter') title.blur(); },
  });
  const status = h('select', { class: 'ticket-status', 'data-testid': 'ticket-status', ...L('ticketStatus'), onchange: () => patch({ status: status.value }) },
    ...STATUSES.map((s) => h('option', { value: s, ...T('status_' + s) })));
  const assign = h('button', { type: 'button', class: 'tab', 'data-testid': 'ticket-assign', ...T('assignToMe'), onclick: () => patch({ assignee_id: 'me' }) });
  // Any colleague, not only oneself: the server accepts every enabled agent's id.
  const assignTo = h('select', { class: 'ticket-assignee', 'data-testid': 'ticket-assignee-select', ...L('assignTo'),
    onchange: () => patch({ assignee_id: assignTo.value || null }) });
  const info = h('dl', { class: 'ticket-info', 'data-testid': 'ticket-info' });
  const tagPicker = createTagPicker({
    store: tags, testid: 'ticket-tags',
    async save(add, remove) {
      tk = await request('PATCH', '/agent/tickets/' + enc(tk.ticket_id) + '/tags', { add, remove });
      changed(tk);
      return tk.tags;
    },
  });
  const timeline = h('ol', { class: 'ticket-timeline', 'data-testid': 'ticket-timeline', 'aria-live': 'polite' });

  const reply = h('textarea', { class: 'ticket-box', 'data-testid': 'ticket-reply', rows: 4, maxlength: 20000, ...P('replyPlaceholder'), ...L('reply') });
  const then = h('select', { 'data-testid': 'ticket-reply-status', ...L('replyThen') },
    h('option', { value: '', ...T('sendOnly') }), h('option', { value: 'pending', ...T('sendPending') }), h('option', { value: 'solved', ...T('sendSolved') }));
  const replySend = h('button', { type: 'button', class: 'primary', 'data-testid': 'ticket-reply-send', ...T('sendReply'), onclick: () => post('replies', reply) });
  const note = h('textarea', { class: 'ticket-box note', 'data-testid': 'ticket-note', rows: 3, maxlength: 20000, ...P('notePlaceholder'), ...L('note') });
  const noteSend = h('button', { type: 'button', class: 'tab', 'data-testid': 'ticket-note-send', ...T('addNote'), onclick: () => post('notes', note) });
  const file = h('input', { type: 'file', class: 'sr', id: 'ticket-file', 'data-testid': 'ticket-attach', multiple: true, onchange: upload });
  const chips = h('ul', { class: 'ticket-chips', 'data-testid': 'ticket-pending-attachments' });

  const head = h('div', { class: 'ticket-head' },
    h('div', { class: 'ticket-titlerow' }, h('span', { class: 'ticket-ref', 'data-testid': 'ticket-ref' }), title, status, assign, assignTo), tagPicker.el, info);
  const compose = h('div', { class: 'ticket-compose' },
    reply, h('div', { class: 'ticket-actions' }, then, replySend),
    note, h('div', { class: 'ticket-actions' }, noteSend,
      h('label', { for: 'ticket-file', class: 'tab ticket-attach-label', ...T('attachFile') }), file),
    chips);
  const empty = h('p', { class: 'info-state', ...T('pickTicket') });
  const body = h('div', { class: 'ticket-body', hidden: true }, head, timeline, compose);
  const el = h('section', { class: 'ticket-view', 'data-testid': 'ticket-view', ...L('ticket') }, empty, body);
  const offLang = onLang(() => tk && draw());

  async function names() {
    if (team) return;
    try {
      team = new Map((((await request('GET', '/agent/team')) || {}).agents || []).map((a) => [a.id, a.name || a.email || a.id]));
    } catch (e) {
      team = null;
    }
  }

  async function open(id) {
    const mine = ++req;
    if (!tk || tk.ticket_id !== id) {
      then.value = ''; // "Send and set Pending" was for the previous ticket
      pending = [];
      reply.value = '';
      note.value = '';
    }
    try {
      let r = await request('GET', '/agent/tickets/' + enc(id));
      const all = [...(r.events || [])];
      while (r.next_after != null && mine === req) {
        r = await request('GET', '/agent/tickets/' + enc(id) + '?after=' + r.next_after);
        all.push(...(r.events || []));
      }
      await names();
      if (mine !== req) return;
      tk = r.ticket;
      events = all;
      draw();
      changed(tk);
    } catch (e) {
      if (mine === req) flash(e.status === 404 ? t('ticketGone') : t('loadFailed'));
    }
  }

  async function patch(change) {
    if (!tk) return;
    try {
      const r = await request('PATCH', '/agent/tickets/' + enc(tk.ticket_id), { version: tk.version, ...change });
      tk = r;
      changed(tk);
    } catch (e) {
      flash(t('saveFailed', { reason: errorText(e) }));
    }
    open(tk.ticket_id); // the change's timeline entry, or the other agent's version after a 409
  }

  async function post(kind, box) {
    const text = box.value.trim();
    if (!tk || !text) return;
    const body = { body: text };
    if (pending.length) body.attachment_ids = pending.map((a) => a.attachment_id);
    if (kind === 'replies' && then.value) body.status = then.value;
    const btn = kind === 'replies' ? replySend : noteSend;
    btn.disabled = true;
    try {
      const r = await request('POST', '/agent/tickets/' + enc(tk.ticket_id) + '/' + kind, body);
      box.value = '';
      pending = [];
      tk = r.ticket;
      events.push(r.event);
      draw();
      changed(tk);
      const d = (kind === 'replies' && r.event && r.event.data) || {};
      if (d.delivery === 'failed') flash(d.error === 'mail_sandbox' ? t('replyNotEmailedSandbox', { email: (tk.requester && tk.requester.email) || '' }) : t('replyNotEmailed'));
    } catch (e) {
      flash(t('sendFailed', { reason: errorText(e) }));
    }
    btn.disabled = false;
  }

  // Announce, POST the file to S3 as the policy says (the answer is opaque: no-cors), then check.
  async function upload() {
    const id = tk && tk.ticket_id;
    for (const f of Array.from(file.files || [])) {
      try {
        const base = '/agent/tickets/' + enc(id) + '/attachments';
        const r = await request('POST', base, { name: f.name, content_type: f.type || 'application/octet-stream', size: f.size });
        const form = new FormData();
        for (const [k, v] of Object.entries(r.upload.fields || {})) form.append(k, v);
        form.append('file', f);
        await fetch(r.upload.url, { method: 'POST', body: form, mode: 'no-cors' });
        const done = await request('POST', base + '/' + enc(r.attachment.attachment_id) + '/complete');
        if (tk && tk.ticket_id === id) pending.push(done);
      } catch (e) {
        flash(t('uploadFailed', { name: f.name, reason: errorText(e) }));
      }
    }
    file.value = '';
    drawChips();
  }

  async function download(a) {
    try {
      const r = await request('GET', '/agent/tickets/' + enc(tk.ticket_id) + '/attachments/' + enc(a.attachment_id));
      window.location.assign(r.url); // served with Content-Disposition: attachment; the page stays
    } catch (e) {
      flash(t('loadFailed'));
    }
  }

  function drawChips() {
    chips.replaceChildren(...pending.map((a) => h('li', { class: 'ticket-chip', 'data-testid': 'ticket-pending-attachment' },
      h('span', { text: a.name }),
      h('button', { type: 'button', class: 'x', ...L('removeAttachment'), text: '×', onclick() { pending = pending.filter((x) => x !== a); drawChips(); } }))));
  }

  const person = (id) => (id && team && team.get(id)) || null;

  function draw() {
    show(empty, false);
    show(body, true);
    head.querySelector('.ticket-ref').textContent = '#' + tk.ref;
    if (document.activeElement !== title) title.value = tk.subject || '';
    status.value = tk.status;
    const me_ = me();
    assign.hidden = tk.assignee_id === me_.id;
    const ids = team ? Array.from(team.keys()) : [];
    if (tk.assignee_id && !ids.includes(tk.assignee_id)) ids.push(tk.assignee_id);
    assignTo.replaceChildren(h('option', { value: '', ...T('unassigned') }),
      ...ids.map((id) => h('option', { value: id, text: id === me_.id ? t('assigneeMe') : person(id) || id })));
    assignTo.value = tk.assignee_id || '';
    tagPicker.update(tk.tags);
    const assignee = tk.assignee_id ? (tk.assignee_id === me_.id ? t('assigneeMe') : person(tk.assignee_id) || tk.assignee_id) : t('unassigned');
    const row = (key, value, testid) => [h('dt', T(key)), h('dd', { 'data-testid': testid, text: value })];
    info.replaceChildren(
      ...row('requester', requesterLabel(tk.requester), 'ticket-requester'),
      // A mail whose From SES could not vouch for: anyone may have written it.
      ...row('source', t('source_' + tk.source) + (tk.sender_verified === false ? ' · ' + t('unverifiedSender') : ''), 'ticket-source'),
      ...row('created', when(tk.created_at), 'ticket-created'),
      ...row('assignee', assignee, 'ticket-assignee'));
    timeline.replaceChildren(...events.map(entry));
    drawChips();
  }

  function entry(e) {
    const d = e.data || {};
    const who = e.author === 'agent' ? e.author_name || person(e.author_id) || t('agent')
      : e.author === 'requester' ? e.author_name || requesterLabel(tk.requester) : t('system');
    const li = h('li', { class: 'ticket-event ' + e.kind + ' by-' + e.author, 'data-testid': 'ticket-event', 'data-kind': e.kind, 'data-seq': e.seq },
      h('span', { class: 'meta' }, h('span', { class: 'who', dir: 'auto', text: who }),
        e.kind === 'note' ? h('span', { class: 'ticket-badge note', ...T('internalNote') }) : null,
        d.sender_verified === false ? h('span', { class: 'ticket-badge unverified', 'data-testid': 'unverified-sender', ...T('unverifiedSender') }) : null,
        h('time', { datetime: e.ts, text: when(e.ts) })));
    if (e.kind === 'status') li.append(h('span', { class: 'text', text: t('statusChange', { from: t('status_' + d.from), to: t('status_' + d.to) }) }));
    else if (e.kind === 'update') {
      const v = (x) => (d.field === 'assignee' ? person(x) || x || t('unassigned') : x == null ? '' : String(x));
      li.append(h('span', { class: 'text', text: d.field === 'source' ? t('fromChat', { n: d.messages || 0 })
        : t('fieldChange', { field: t('field_' + d.field), from: v(d.from), to: v(d.to) }) }));
    } else if (e.body) li.append(textSpan(e.body));
    if (d.delivery) li.setAttribute('data-delivery', d.delivery);
    if (d.delivery === 'failed' && d.reason) li.append(h('span', { class: 'meta', 'data-testid': 'delivery-reason', text: d.reason }));
    const files = d.attachments || [];
    if (files.length) {
      li.append(h('ul', { class: 'ticket-files' }, ...files.map((a) => h('li', null, h('button', {
        type: 'button', class: 'link', 'data-testid': 'ticket-attachment', 'data-attachment-id': a.attachment_id, onclick: () => download(a),
      }, h('span', { text: a.name }), h('span', { class: 'size', text: ' (' + size(a.size) + ')' }))))));
    }
    return li;
  }

  return {
    el,
    open,
    reload: () => tk && open(tk.ticket_id),
    current: () => tk && tk.ticket_id,
    destroy() { offLang(); tagPicker.destroy(); },
  };
}

function size(n) {
  const kb = (n || 0) / 1024;
  return kb < 1024 ? Math.max(1, Math.round(kb)) + ' KB' : (kb / 1024).toFixed(1) + ' MB';
}
