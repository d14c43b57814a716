// The Reports section: a date range (last 7 days by default), whose figures (the team, me, a group, or
// for admins any agent), chats per day and per hour of day as SVG bars, the totals, and a CSV export.
// Days and hours are the organisation's (its time zone, which the report names): the first load
// leaves the range out, so it ends today there rather than today where the reader is.
import { h, show } from '../../ui-common/dom.js';
import { downloadCsv } from './download.js';
import { t, T, L, lang, onLang } from './i18n.js';
import { barChart } from './charts.js';

export function createReportsView({ request, api, isAdmin, flash, tags }) {
  let data = null;
  let req = 0;
  let teamLoaded = false;
  const from = h('input', { type: 'date', 'data-testid': 'report-from', ...L('reportFrom'), onchange: load });
  const to = h('input', { type: 'date', 'data-testid': 'report-to', ...L('reportTo'), onchange: load });
  const subject = h('select', { 'data-testid': 'report-subject', ...L('reportSubject'), onchange: load },
    h('option', { value: 'team', ...T('reportTeam') }), h('option', { value: 'me', ...T('reportMe') }));
  // The team's chats that carry one tag (the report's `tag` filter; the team's only).
  const tag = h('select', { 'data-testid': 'report-tag', ...L('reportTag'), onchange: load });
  const tagOptions = () => {
    const was = tag.value;
    tag.replaceChildren(h('option', { value: '', ...T('tagAllChats') }), ...tags.list.map((x) => h('option', { value: x.id, text: x.name })));
    tag.value = tags.list.some((x) => x.id === was) ? was : '';
    show(tag, tags.list.length > 0);
  };
  const offTags = tags.on(tagOptions);
  tagOptions();
  tags.ready();
  const csv = h('button', { type: 'button', class: 'tab', 'data-testid': 'report-csv', ...T('exportCsv'), onclick: download });
  const state = h('p', { class: 'info-state', role: 'status', hidden: true });
  const totals = h('dl', { class: 'report-totals', 'data-testid': 'report-totals' });
  const charts = h('div', { class: 'report-charts' });
  const zone = h('p', { class: 'help report-zone', 'data-testid': 'report-zone', hidden: true });
  const el = h('section', { class: 'reports-view', 'data-testid': 'reports-view', ...L('reports'), hidden: true },
    h('div', { class: 'tickets-bar' },
      h('label', null, h('span', T('reportFrom')), from), h('label', null, h('span', T('reportTo')), to), subject, tag, csv),
    state, totals, charts, zone);
  // A group's option says "Group: …" in the console's language, so it follows a switch like the rest.
  const offLang = onLang(() => {
    for (const o of subject.querySelectorAll('[data-testid=report-group]')) o.textContent = t('reportGroup', { name: o.dataset.name });
    draw();
  });

  // An empty date is left out: the server's default (the last 7 days, to today in the organisation).
  function params() {
    // A tag's report is the team's chats with it: the subject (an agent, a group) is set aside meanwhile.
    subject.disabled = !!tag.value;
    const v = tag.value ? 'team' : subject.value;
    const p = new URLSearchParams(v.startsWith('group:') ? { group: v.slice(6) } : { agent: v });
    if (tag.value) p.set('tag', tag.value);
    if (from.value) p.set('from', from.value);
    if (to.value) p.set('to', to.value);
    return p;
  }

  // The groups (everyone sees their figures, as the team's), then for admins each agent.
  async function team() {
    if (teamLoaded) return;
    teamLoaded = true;
    try {
      const groups = ((await request('GET', '/agent/groups')) || {}).groups || [];
      subject.append(...groups.map((g) => h('option', { value: 'group:' + g.id, 'data-testid': 'report-group', 'data-name': g.name, text: t('reportGroup', { name: g.name }) })));
      if (!isAdmin()) return;
      const agents = ((await request('GET', '/agent/team')) || {}).agents || [];
      subject.append(...agents.map((a) => h('option', { value: a.id, text: a.name || a.email || a.id })));
    } catch (e) {
      teamLoaded = false;
    }
  }

  async function load() {
    const mine = ++req;
    setState(t('loading'));
    try {
      const r = await request('GET', '/agent/reports?' + params());
      if (mine !== req) return;
      data = r;
      from.value = r.from;
      to.value = r.to;
      setState('');
    } catch (e) {
      if (mine !== req) return;
      data = null;
      setState(e.status === 400 || e.status === 403 ? e.message : t('loadFailed'));
    }
    draw();
  }

  function draw() {
    show(zone, !!(data && data.time_zone));
    if (!data) {
      totals.replaceChildren();
      charts.replaceChildren();
      return;
    }
    zone.textContent = t('reportZone', { zone: data.time_zone });
    const num = new Intl.NumberFormat(lang());
    const day = new Intl.DateTimeFormat(lang(), { month: 'short', day: 'numeric', timeZone: 'UTC' });
    const days = data.days || [];
    const tt = data.totals || {};
    const hours = tt.by_hour || [];
    const perDay = barChart({
      testid: 'chart-per-day', label: t('chartPerDay'), labelEvery: Math.ceil(days.length / 10),
      bars: days.map((d) => {
        const label = day.format(new Date(d.day + 'T00:00:00Z'));
        return { label, value: d.chats || 0, title: label + ': ' + num.format(d.chats || 0) };
      }),
    });
    const perHour = barChart({
      testid: 'chart-per-hour', label: t('chartPerHour'), labelEvery: 3,
      bars: Array.from({ length: 24 }, (_, i) => ({ label: String(i), value: hours[i] || 0, title: t('hourLabel', { h: i }) + ': ' + num.format(hours[i] || 0) })),
    });
    charts.replaceChildren(
      h('figure', null, h('figcaption', T('chartPerDay')), perDay),
      h('figure', null, h('figcaption', T('chartPerHour')), perHour));
    const fig = (key, testid, value) => [h('dt', T(key)), h('dd', { 'data-testid': testid, text: value })];
    const csat = tt.csat == null ? '–' : num.format(tt.csat) + ' %';
    totals.replaceChildren(
      ...fig('reportChats', 'report-chats', num.format(tt.chats || 0)),
      ...fig('reportMissed', 'report-missed', num.format(tt.missed || 0)),
      ...fig('reportOffline', 'report-offline', num.format(tt.offline_messages || 0)),
      ...fig('reportFirstResponse', 'report-first-response', duration(tt.median_first_response_s)),
      ...fig('reportDuration', 'report-duration', duration(tt.avg_duration_s)),
      ...fig('reportCsat', 'report-csat', t('csatFigures', { csat, good: num.format(tt.good || 0), bad: num.format(tt.bad || 0) })));
  }

  function duration(s) {
    if (s == null) return '–';
    const num = new Intl.NumberFormat(lang(), { maximumFractionDigits: 0 });
    if (s < 60) return t('secondsShort', { n: num.format(s) });
    if (s < 3600) return t('minutesShort', { n: num.format(Math.round(s / 60)) });
    return t('hoursShort', { h: num.format(Math.floor(s / 3600)), m: num.format(Math.round((s % 3600) / 60)) });
  }

  // The CSV needs the token in a header (download.js).
  async function download() {
    csv.disabled = true;
    try {
      await downloadCsv(request, api, '/agent/reports/csv?' + params(), `charla-report-${from.value}-${to.value}.csv`);
    } catch (e) {
      flash(t('loadFailed'));
    }
    csv.disabled = false;
  }

  function setState(text) {
    state.textContent = text;
    show(state, !!text);
  }

  return {
    el,
    show(on) {
      show(el, on);
      if (on) team().then(load);
    },
    destroy() { offLang(); offTags(); },
  };
}
