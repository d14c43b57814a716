// The Visitors section: who is on the site right now (GET /agent/visitors/online, then live
// `visitor` frames), with a filter and a greeting form per visitor. Admins also get the identity
// secret, the tracking settings and greeting rules (visitor_admin.js), and export or erase a
// visitor's data. Everything the visitor's browser reported is untrusted and goes in as text.
import { h, show } from '../../ui-common/dom.js';
import { olderLine } from './visitor_lines.js';
import { t, T, L, P, lang, onLang, errorText } from './i18n.js';
import { parseUserAgent } from './useragent.js';
import { visitorLabel } from './chatlist.js';
import { createVisitorAdmin, privacyActions } from './visitor_admin.js';

const REFRESH_MS = 60e3; // the list is re-read while shown: chat states and expiry drift from frames
const TICK_MS = 5e3;
const STATES = { browsing: 'stateBrowsing', queued: 'stateQueued', chatting: 'stateChatting' };

export function createVisitorsView({ request, isAdmin, now, flash, supervise }) {
  const rows = new Map(); // visitor id -> {v (the server's row), ui}
  let greeting = null; // the visitor id whose greeting form is open
  let shown = false;
  let loadedOnce = false;
  let refreshTimer;

  const filter = h('input', {
    type: 'search', class: 'visitor-filter', 'data-testid': 'visitor-filter', ...P('visitorFilter'), ...L('visitorFilter'),
    oninput: render,
  });
  const count = h('span', { class: 'visitor-count', 'data-testid': 'visitor-count', role: 'status' });
  const state = h('p', { class: 'info-state', role: 'status', hidden: true });
  const body = h('tbody');
  const head = h('tr', null, ...['visitorCol', 'currentPage', 'timeOnSite', 'where', 'visits', 'chatState', 'actionsCol']
    .map((key) => h('th', { scope: 'col', ...T(key) })));
  const table = h('table', { class: 'visitors' }, h('thead', null, head), body);
  const admin = isAdmin() ? createVisitorAdmin({ request, flash }) : null;
  const el = h('section', { class: 'visitors-view', 'data-testid': 'visitors-view', ...L('visitors'), hidden: true },
    h('div', { class: 'visitors-bar' }, h('h2', T('visitorsOnline')), count, filter),
    state, h('div', { class: 'table-wrap' }, table), admin ? admin.el : null);

  const tick = setInterval(() => {
    if (!shown) return;
    expire();
    render();
  }, TICK_MS);
  const offLang = onLang(() => {
    for (const r of rows.values()) r.ui = null;
    render();
  });

  // -- data ------------------------------------------------------------------------------------

  async function load() {
    if (!loadedOnce) setState(t('loading'));
    try {
      const data = await request('GET', '/agent/visitors/online');
      const fresh = new Map();
      for (const v of (data && data.visitors) || []) if (v && v.id) fresh.set(v.id, v);
      for (const id of Array.from(rows.keys())) if (!fresh.has(id)) rows.delete(id);
      for (const v of fresh.values()) upsert(v, false);
      loadedOnce = true;
      setState('');
    } catch (e) {
      if (!loadedOnce) setState(t('loadFailed'));
    }
    render();
  }

  function upsert(v, draw = true) {
    if (!v || !v.id) return;
    if (v.online === false) rows.delete(v.id);
    else {
      const r = rows.get(v.id);
      if (r && olderLine(r.v, v)) return;
      if (r) r.v = { ...r.v, ...v };
      else rows.set(v.id, { v, ui: null });
    }
    if (draw && shown) render();
  }

  // Presence ends at online_until (server epoch seconds); `now` is corrected for clock skew.
  function expire() {
    const s = now() / 1e3;
    for (const [id, r] of rows) if (r.v.online_until && r.v.online_until < s && id !== greeting) rows.delete(id);
  }

  // The console's own chat frames say when a listed visitor starts, waits or stops chatting.
  function chat(c) {
    const r = c && c.visitor && rows.get(c.visitor.id);
    if (!r) return;
    r.v.chat_state = c.status === 'queued' ? 'queued' : c.status === 'active' ? 'chatting' : 'browsing';
    r.v.chat_id = c.status === 'closed' ? null : c.chat_id;
    if (c.visitor.name && !r.v.name) r.v.name = c.visitor.name;
    if (shown) render();
  }

  // -- rendering -------------------------------------------------------------------------------

  function matches(v, q) {
    if (!q) return true;
    const hay = [v.name, visitorLabel(v), v.number, v.email, v.url, v.title, v.country, regionName(v.country), v.timezone]
      .filter(Boolean).join(' ').toLowerCase();
    return hay.includes(q);
  }

  function render() {
    if (!shown) return;
    const q = filter.value.trim().toLowerCase();
    const list = Array.from(rows.values()).sort((a, b) => String(b.v.last_seen || '').localeCompare(String(a.v.last_seen || '')));
    const visible = list.filter((r) => matches(r.v, q));
    count.textContent = q ? t('visitorsShown', { n: visible.length, total: list.length }) : t('visitorsCount', { n: list.length });
    const trs = [];
    for (const r of visible) {
      trs.push(row(r));
      if (greeting === r.v.id) trs.push(greetRow(r));
    }
    if (!trs.length) trs.push(h('tr', null, h('td', { colspan: 7, class: 'info-state', ...T(list.length ? 'noMatch' : 'noVisitors') })));
    body.replaceChildren(...trs);
  }

  function row(r) {
    const v = r.v;
    if (!r.ui) {
      const ui = (r.ui = {
        name: h('span', { class: 'vname', 'data-testid': 'visitor-name-cell' }),
        badge: h('span', { class: 'badge-ok', 'data-testid': 'visitor-verified' }),
        page: h('td', { 'data-testid': 'visitor-page-cell' }),
        time: h('td', { 'data-testid': 'visitor-time-cell' }),
        where: h('td', { 'data-testid': 'visitor-where-cell' }),
        visits: h('td', { 'data-testid': 'visitor-visits-cell' }),
        state: h('span', { class: 'vstate', 'data-testid': 'visitor-state' }),
        greet: h('button', { type: 'button', class: 'plain', 'data-testid': 'greet', ...T('greet'), onclick: () => openGreeting(v.id) }),
        device: h('span', { class: 'vdevice' }),
        // Admins watch a visitor's chat silently (docs/protocol.md, `supervise`).
        supervise: isAdmin() && supervise
          ? h('button', { type: 'button', class: 'plain', 'data-testid': 'supervise', ...T('supervise'), onclick: () => r.v.chat_id && supervise(r.v.chat_id) })
          : null,
      });
      ui.tr = h('tr', { class: 'visitor-row', 'data-testid': 'visitor-row', 'data-visitor-id': v.id },
        h('th', { scope: 'row' }, ui.name, ' ', ui.badge, ui.device), ui.page, ui.time, ui.where, ui.visits,
        h('td', null, ui.state),
        // Export and erase are rare and the second is destructive: behind a per-row disclosure.
        h('td', { class: 'vactions' }, ui.greet, ui.supervise, isAdmin() ? h('details', { class: 'vdata' },
          h('summary', { 'data-testid': 'visitor-data', ...T('visitorData') }),
          privacyActions({ request, flash, visitorId: v.id, onErased: () => {
            rows.delete(v.id);
            render();
          } })) : null));
    }
    const ui = r.ui;
    const cur = r.v;
    ui.name.textContent = cur.name || cur.email || visitorLabel(cur);
    ui.name.title = cur.email || '';
    // A verified identity is the news and gets a mark; a name the visitor typed, or one the site passed
    // unsigned, is the usual case and gets none (the chat's visitor panel says where it came from).
    ui.badge.textContent = t('verified');
    show(ui.badge, !!cur.verified);
    const ua = parseUserAgent(cur.user_agent);
    ui.device.textContent = ua.browser && ua.os ? t('browserOn', ua) : ua.browser || ua.os || '';
    ui.page.replaceChildren(
      h('span', { class: 'page-title', text: cur.title || cur.url || t('none') }),
      cur.url ? h('span', { class: 'url', text: cur.url }) : '');
    const site = since(cur.visit_started_at);
    const page = since(cur.page_started_at);
    ui.time.textContent = site != null ? t('onSiteFor', { site: duration(site), page: duration(page || 0) }) : t('none');
    ui.where.textContent = [regionName(cur.country), cur.timezone].filter(Boolean).join(' · ') || t('none');
    ui.visits.textContent = String(cur.visits || 1);
    const s = STATES[cur.chat_state] ? cur.chat_state : 'browsing';
    ui.state.textContent = t(STATES[s]);
    ui.state.setAttribute('data-state', s);
    ui.greet.disabled = s !== 'browsing';
    if (ui.supervise) show(ui.supervise, s === 'chatting' && !!cur.chat_id);
    ui.greet.setAttribute('aria-expanded', String(greeting === cur.id));
    return ui.tr;
  }

  function greetRow(r) {
    if (!r.form) {
      const text = h('textarea', { id: 'greet-text-' + r.v.id, class: 'greet-text', 'data-testid': 'greet-text', rows: 2, maxlength: 500 });
      const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'greet-send', ...T('sendGreeting') });
      const cancel = h('button', { type: 'button', class: 'plain', ...T('cancel'), onclick: () => closeGreeting() });
      const form = h('form', {
        class: 'greet-form',
        async onsubmit(e) {
          e.preventDefault();
          const value = text.value.trim();
          if (!value) return text.focus();
          send.disabled = true;
          try {
            const sent = await request('POST', '/agent/visitors/' + encodeURIComponent(r.v.id) + '/greeting', { text: value });
            flash(t(sent && sent.delivered ? 'greetingSent' : 'greetingQueued', { name: visitorLabel(r.v) }));
            text.value = '';
            closeGreeting();
          } catch (err) {
            flash(t('greetingFailed', { reason: errorText(err) }));
          } finally {
            send.disabled = false;
          }
        },
      }, h('label', { for: 'greet-text-' + r.v.id, ...T('greetingLabel') }), text, h('span', { class: 'row' }, send, cancel));
      r.form = { tr: h('tr', { class: 'greet-row' }, h('td', { colspan: 7 }, form)), text };
    }
    return r.form.tr;
  }

  function openGreeting(id) {
    greeting = greeting === id ? null : id;
    render();
    const r = rows.get(id);
    if (greeting && r && r.form) r.form.text.focus();
  }

  function closeGreeting() {
    const id = greeting;
    greeting = null;
    render();
    const r = id && rows.get(id);
    if (r && r.ui) r.ui.greet.focus();
  }

  function since(iso) {
    const at = iso ? Date.parse(iso) : NaN;
    return isNaN(at) ? null : Math.max(0, now() - at);
  }

  function setState(text) {
    state.textContent = text;
    show(state, !!text);
  }

  return {
    el,
    show(on) {
      shown = on;
      show(el, on);
      clearInterval(refreshTimer);
      if (!on) return;
      load();
      if (admin) admin.load();
      refreshTimer = setInterval(() => document.visibilityState === 'visible' && load(), REFRESH_MS);
    },
    frame: upsert,
    chat,
    destroy() {
      clearInterval(tick);
      clearInterval(refreshTimer);
      offLang();
    },
  };
}

function duration(ms) {
  const s = Math.floor(ms / 1e3);
  if (s < 60) return t('secondsShort', { n: s });
  if (s < 3600) return t('minutesShort', { n: Math.floor(s / 60) });
  return t('hoursShort', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

function regionName(code) {
  if (!code) return '';
  try {
    const name = new Intl.DisplayNames([lang()], { type: 'region' }).of(code);
    if (name) return name;
  } catch (e) { /* not a region code */ }
  return code;
}
