// Tags (GET /agent/tags): the list every console section shares, coloured chips, and the picker that
// tags an open or past chat (PATCH /agent/chats/{id}/tags) and a ticket (PATCH /agent/tickets/{id}/tags).
// Tag names are the admins' text: chips show them as text only; a colour reaches the page through the
// CSSOM (a custom property), never a style attribute, so the console's CSP holds.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L, errorText } from './i18n.js';

// One list per console: loaded on first use, reloaded after an admin's change.
export function createTagStore(request) {
  let tags = [];
  let loading = null;
  let loadedAt = 0;
  const subs = new Set();
  const byId = () => new Map(tags.map((x) => [x.id, x]));
  let asked = 0;
  async function reload() {
    loadedAt = Date.now();
    const mine = ++asked;
    loading = (async () => {
      try {
        const answer = ((await request('GET', '/agent/tags')) || {}).tags || [];
        // Only the newest request's answer counts: an older one may predate an admin's change.
        if (mine === asked) tags = answer;
      } catch {
        // Chips of unknown ids stay hidden; the next reload tries again.
      }
      subs.forEach((fn) => fn());
    })();
    return loading;
  }
  return {
    get list() { return tags; },
    byId,
    ready: () => loading || reload(),
    reload,
    // Ids this console doesn't know are tags an admin made since it loaded the list: load it again
    // (at most every 10 s, so ids of deleted tags cost nothing).
    want(ids) {
      const known = byId();
      if ((ids || []).some((id) => !known.has(id)) && Date.now() - loadedAt > 10e3) reload();
    },
    on(fn) { subs.add(fn); return () => subs.delete(fn); },
  };
}

export function chip(tag, removable) {
  const el = h('span', { class: 'tag-chip', 'data-testid': 'tag-chip', 'data-tag-id': tag.id },
    h('span', { class: 'tag-name', dir: 'auto', text: tag.name }), removable || null);
  el.style.setProperty('--tag-color', tag.color);
  return el;
}

// The chips of `ids` (ids of deleted tags are left out), by name as the list sorts them.
export function chipsOf(store, ids) {
  store.want(ids);
  const have = new Set(ids || []);
  return store.list.filter((x) => have.has(x.id)).map((x) => chip(x));
}

// A chat's or ticket's tags with a remove button on each and a select to add one. `save(add, remove)`
// sends the change and resolves to the new ids. `testid`: chat-tags or ticket-tags.
export function createTagPicker({ store, save, testid }) {
  let ids = [];
  let busy = false;
  const chips = h('span', { class: 'tag-chips' });
  const add = h('select', { class: 'tag-add', 'data-testid': 'tag-add', ...L('tagAdd'), onchange: () => change([add.value], []) });
  const error = h('span', { class: 'form-error', 'data-testid': 'tag-error', role: 'alert', hidden: true });
  const el = h('div', { class: 'tag-picker', 'data-testid': testid }, chips, add, error);
  const off = store.on(render);

  async function change(plus, minus) {
    if (busy || !plus.filter(Boolean).length && !minus.length) return;
    busy = true;
    add.disabled = true; // one change at a time: the next starts from the tags this one leaves
    show(error, false);
    try {
      ids = await save(plus.filter(Boolean), minus);
    } catch (e) {
      error.textContent = errorText(e, (f) => (f === 'add' || f === 'remove' ? { label: t('tags') } : null));
      show(error, true);
      store.reload(); // a tag deleted meanwhile leaves the list
    }
    busy = false;
    add.disabled = false;
    render();
  }

  function render() {
    const have = new Set(ids);
    chips.replaceChildren(...store.list.filter((x) => have.has(x.id)).map((x) => chip(x, h('button', {
      type: 'button', class: 'tag-remove', 'data-testid': 'tag-remove', 'aria-label': t('tagRemove', { name: x.name }),
      text: '×', disabled: busy, onclick: () => change([], [x.id]),
    }))));
    const free = store.list.filter((x) => !have.has(x.id));
    add.replaceChildren(h('option', { value: '', text: t('tagAdd') }), ...free.map((x) => h('option', { value: x.id, text: x.name })));
    add.value = '';
    show(add, free.length > 0);
  }

  store.ready();
  return {
    el,
    update(next) {
      ids = Array.isArray(next) ? next.slice() : [];
      store.want(ids);
      render();
    },
    destroy: off,
  };
}

// A select of the tag list for filtering by one tag ('' is any), hidden while there are no tags.
// `fill()` follows the list (call it from store.on), keeping the choice while its tag exists.
export function tagFilter(store, attrs, onchange) {
  const el = h('select', { class: 'ticket-filter', ...attrs, onchange });
  function fill() {
    const was = el.value;
    el.replaceChildren(h('option', { value: '', ...T('tagAny') }), ...store.list.map((x) => h('option', { value: x.id, text: x.name })));
    el.value = store.list.some((x) => x.id === was) ? was : '';
    show(el, store.list.length > 0);
  }
  fill();
  return { el, fill };
}
