// Admin > Tags: the tag list (GET /agent/tags), each tag renamed or recoloured in place
// (PATCH /admin/tags/{id}) or deleted (DELETE), and a form for a new one (POST /admin/tags). A colour is
// one of the palette's or a #rrggbb of the admin's own. Every change reloads the console's shared list.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, errorText } from './i18n.js';
import { chip } from './tags.js';

const LABELS = { name: 'tagName', color: 'tagColor' };
const enc = encodeURIComponent;

export function createTagsAdmin({ request, store }) {
  const error = h('p', { class: 'form-error', 'data-testid': 'tags-error', role: 'alert', hidden: true });
  const name = h('input', { id: 'tag-name', 'data-testid': 'tag-name', maxlength: 40, required: true });
  const color = h('select', { id: 'tag-color', 'data-testid': 'tag-color' });
  const custom = h('input', { id: 'tag-color-custom', 'data-testid': 'tag-color-custom', maxlength: 7, placeholder: '#1a2b3c', ...L('tagColorCustom') });
  // Enabled once the palette has come (the server's), so a quick first click cannot send no colour.
  const add = h('button', { type: 'submit', class: 'primary', 'data-testid': 'tag-create', disabled: true, ...T('tagCreate') });
  const field = (fid, key, ...controls) => h('p', { class: 'field' }, h('label', { for: fid, ...T(key) }), ...controls);
  const form = h('form', { class: 'admin-box admin-form', novalidate: true, onsubmit: submit },
    h('h3', T('tagNew')), field('tag-name', 'tagName', name), field('tag-color', 'tagColor', color, custom), add);
  const rows = h('tbody');
  const empty = h('p', { class: 'empty', 'data-testid': 'tags-empty', hidden: true, ...T('tagsEmpty') });
  const el = h('section', { class: 'admin-sub', 'data-testid': 'admin-tags' }, h('h2', T('tags')), error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'admin-table' },
      h('thead', null, h('tr', null, ...['tagName', 'tagColor', 'actionsCol'].map((k) => h('th', { scope: 'col', ...T(k) })))),
      rows)), empty, form);

  let palette = {};

  function fail(e) {
    error.textContent = errorText(e, (f) => (LABELS[f] ? { label: t(LABELS[f]) } : null));
    show(error, true);
  }

  // The palette's colours by their names, and a tag's own colour when it is not one of them.
  function colorOptions(select, current) {
    const named = Object.entries(palette);
    const own = current && !named.some(([, hex]) => hex === current) ? [h('option', { value: current, text: current })] : [];
    select.replaceChildren(...named.map(([key, hex]) => h('option', { value: hex, text: t('color_' + key) })), ...own);
    if (current) select.value = current;
  }

  async function change(method, path, body) {
    show(error, false);
    try {
      await request(method, path, body);
      await load();
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  }

  function render() {
    colorOptions(color, color.value || null);
    show(empty, !store.list.length);
    rows.replaceChildren(...store.list.map((tag) => {
      const rename = h('input', { 'data-testid': 'tag-name-edit', value: tag.name, maxlength: 40, 'aria-label': t('tagName') });
      const recolor = h('select', { 'data-testid': 'tag-color-edit', 'aria-label': t('tagColor') });
      colorOptions(recolor, tag.color);
      return h('tr', { 'data-testid': 'tag-row', 'data-tag-id': tag.id },
        h('td', null, chip(tag), ' ', rename),
        h('td', null, recolor),
        h('td', null,
          h('button', { type: 'button', class: 'tab', 'data-testid': 'tag-save', ...T('save'),
            onclick: () => change('PATCH', '/admin/tags/' + enc(tag.id), { name: rename.value.trim(), color: recolor.value }) }),
          ' ',
          h('button', { type: 'button', class: 'plain', 'data-testid': 'tag-delete', ...T('tagDelete'),
            onclick: () => change('DELETE', '/admin/tags/' + enc(tag.id)) })));
    }));
  }

  async function load() {
    try {
      const r = (await request('GET', '/agent/tags')) || {};
      palette = r.palette || {};
      await store.reload();
      render();
      add.disabled = false;
    } catch (e) {
      fail(e);
    }
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    add.disabled = true;
    const own = custom.value.trim();
    if (await change('POST', '/admin/tags', { name: name.value.trim(), color: own || color.value })) {
      name.value = '';
      custom.value = '';
    }
    add.disabled = false;
  }

  return { el, load, render };
}
