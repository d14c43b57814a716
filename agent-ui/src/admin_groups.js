// Admin > Groups: the groups (GET /agent/groups) with their members chosen from the team (GET
// /admin/agents), a form to add one (POST /admin/groups), rename and members (PATCH), delete
// (DELETE), and whether the widget's pre-chat step offers the choice (the setting group_choice).
import { h, show } from '../../ui-common/dom.js';
import { t, T, errorText } from './i18n.js';

const LABELS = { name: 'groupName', members: 'groupMembers' };

export function createGroups({ request }) {
  const error = h('p', { class: 'form-error', 'data-testid': 'groups-error', role: 'alert', hidden: true });
  const choice = h('input', { type: 'checkbox', id: 'group-choice', 'data-testid': 'group-choice', onchange: saveChoice });
  const name = h('input', { id: 'group-name', 'data-testid': 'group-name', maxlength: 60, required: true });
  const newMembers = h('fieldset', { class: 'group-members', 'data-testid': 'group-new-members' });
  const add = h('button', { type: 'submit', class: 'primary', 'data-testid': 'group-add', ...T('groupAdd') });
  const form = h('form', { class: 'admin-box admin-form', novalidate: true, onsubmit: submit },
    h('h3', T('groupCreate')),
    h('p', { class: 'field' }, h('label', { for: 'group-name', ...T('groupName') }), name),
    newMembers, add);
  const list = h('ul', { class: 'group-list', 'data-testid': 'group-list' });
  const empty = h('p', { class: 'empty', 'data-testid': 'groups-empty', hidden: true, ...T('groupsEmpty') });
  const el = h('section', { class: 'admin-sub', 'data-testid': 'admin-groups' }, h('h2', T('groups')),
    h('p', { class: 'help', ...T('groupsHelp') }),
    h('p', { class: 'field check' }, choice, ' ', h('label', { for: 'group-choice', ...T('groupChoice') })),
    error, list, empty, form);

  let groups = [];
  let team = [];

  function fail(e) {
    error.textContent = errorText(e, (f) => (LABELS[f] ? { label: t(LABELS[f]) } : null));
    show(error, true);
  }

  // One checkbox per agent; `chosen` are the ids ticked.
  function memberBoxes(box, prefix, chosen) {
    box.replaceChildren(h('legend', T('groupMembers')), ...team.map((a) => {
      const id = prefix + '-' + a.id;
      return h('label', { class: 'member', for: id },
        h('input', { type: 'checkbox', id, value: a.id, 'data-testid': 'group-member', checked: chosen.includes(a.id) }),
        ' ', h('span', { text: a.name || a.email || a.id }));
    }));
  }
  const ticked = (box) => Array.from(box.querySelectorAll('input:checked'), (i) => i.value);

  function render() {
    show(empty, !groups.length);
    memberBoxes(newMembers, 'group-new', ticked(newMembers));
    list.replaceChildren(...groups.map((g) => {
      const rename = h('input', { 'data-testid': 'group-rename', maxlength: 60, 'aria-label': t('groupName') });
      rename.value = g.name;
      const members = h('fieldset', { class: 'group-members' });
      memberBoxes(members, 'group-' + g.id, g.members || []);
      const act = (fn) => async () => {
        show(error, false);
        try {
          await fn();
        } catch (e) {
          fail(e);
        }
        load();
      };
      return h('li', { class: 'admin-box', 'data-testid': 'group-row', 'data-group-id': g.id },
        h('h3', { 'data-testid': 'group-row-name', text: g.name }),
        h('p', { class: 'field' }, rename), members,
        h('p', null,
          h('button', {
            type: 'button', class: 'primary', 'data-testid': 'group-save', ...T('save'),
            onclick: act(() => request('PATCH', '/admin/groups/' + encodeURIComponent(g.id), { name: rename.value, members: ticked(members) })),
          }), ' ',
          h('button', {
            type: 'button', class: 'plain danger-text', 'data-testid': 'group-delete', ...T('groupDelete'),
            onclick: act(() => request('DELETE', '/admin/groups/' + encodeURIComponent(g.id))),
          })));
    }));
  }

  async function load() {
    try {
      const [found, agents, settings] = await Promise.all([
        request('GET', '/agent/groups'), request('GET', '/admin/agents'), request('GET', '/admin/settings'),
      ]);
      groups = (found || {}).groups || [];
      team = ((agents || {}).agents || []).filter((a) => a.status !== 'disabled');
      choice.checked = !!(settings && settings.group_choice);
      render();
    } catch (e) {
      fail(e);
    }
  }

  async function saveChoice() {
    show(error, false);
    try {
      await request('PATCH', '/admin/settings', { group_choice: choice.checked });
    } catch (e) {
      fail(e);
    }
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    add.disabled = true;
    try {
      await request('POST', '/admin/groups', { name: name.value, members: ticked(newMembers) });
      name.value = '';
      memberBoxes(newMembers, 'group-new', []);
      await load();
    } catch (err) {
      fail(err);
    } finally {
      add.disabled = false;
    }
  }

  return { el, load, render };
}
