// Canned responses: `#shortcut` suggestions in the composer, and a dialog to add, edit and delete
// them (the agent's own; shared ones too for admins). The list comes from GET /agent/canned,
// the agent's own first, then the shared ones they don't override.
import { h, show } from '../../ui-common/dom.js';
import { t, T, L } from './i18n.js';

const SHORTCUT = /^[a-z0-9][a-z0-9_-]{0,31}$/; // the server's rule
const MAX_TEXT = 2000;
const TOKEN = /(?:^|\s)#([a-z0-9][a-z0-9_-]{0,31})?$/i; // "#" or "#ref" just before the caret

// The responses `prefix` finds, best first: shortcuts that start with it, then shortcuts and texts
// that merely contain it. An empty prefix (a lone `#`) finds them all.
export function matching(items, prefix) {
  const p = prefix.toLowerCase();
  const starts = items.filter((c) => c.shortcut.startsWith(p));
  const within = items.filter((c) => !c.shortcut.startsWith(p) && (c.shortcut.includes(p) || c.text.toLowerCase().includes(p)));
  return starts.concat(within);
}

// A `canned` frame (an admin saved or deleted a shared response) applied to the list: a shared
// response never replaces the agent's own one of the same shortcut.
export function applyShared(items, f) {
  const c = f && f.canned;
  if (!c || typeof c.shortcut !== 'string' || (!f.deleted && typeof c.text !== 'string')) return items;
  if (items.some((x) => !x.shared && x.shortcut === c.shortcut)) return items;
  const rest = items.filter((x) => x.shortcut !== c.shortcut);
  if (f.deleted) return rest;
  const own = rest.filter((x) => !x.shared);
  const shared = rest.filter((x) => x.shared).concat({ shortcut: c.shortcut, text: c.text, shared: true });
  return own.concat(shared.sort((a, b) => (a.shortcut < b.shortcut ? -1 : 1)));
}

export function createCanned({ request, isAdmin }) {
  let items = [];
  let loading = null;
  const subs = new Set();

  function load() {
    return loading || (loading = request('GET', '/agent/canned').then((r) => {
      items = ((r && r.canned) || []).filter((c) => c && typeof c.shortcut === 'string' && typeof c.text === 'string');
      subs.forEach((fn) => fn());
    }).finally(() => { loading = null; }));
  }
  let loaded = false;
  const ensure = () => { if (!loaded) { loaded = true; load().catch(() => { loaded = false; }); } };

  // -- suggestions in a textarea ---------------------------------------------------------------

  // `onInsert(value)` runs after a response replaced the token (the composer's input handler).
  function attach(ta, onInsert) {
    const list = h('ul', { class: 'canned-suggestions', id: 'canned-suggestions', role: 'listbox', 'data-testid': 'canned-suggestions', ...L('cannedTitle'), hidden: true });
    const live = h('span', { class: 'sr', role: 'status' });
    ta.setAttribute('aria-autocomplete', 'list');
    ta.setAttribute('aria-controls', 'canned-suggestions');
    let shown = []; // the items listed
    let active = 0;
    let token = null; // {start, end} of "#prefix" in ta.value
    let dismissed = null; // the text before the caret when Escape closed the list

    function refresh() {
      const pos = ta.selectionStart;
      const before = ta.value.slice(0, pos);
      const m = ta.selectionEnd === pos && TOKEN.exec(before);
      if (!m) dismissed = null; // the dismissed token is gone: the next `#` opens the list again
      if (!m || before === dismissed) return close();
      dismissed = null;
      ensure();
      const prefix = (m[1] || '').toLowerCase();
      const found = matching(items, prefix);
      if (!found.length) return close();
      const keep = shown[active] && found.indexOf(shown[active]);
      active = keep > 0 ? keep : 0;
      shown = found;
      token = { start: pos - prefix.length - 1, end: pos };
      list.replaceChildren(...found.map((c, i) => h('li', {
        id: 'canned-opt-' + i, role: 'option', class: 'canned-item', 'data-testid': 'canned-item', 'data-shortcut': c.shortcut,
        // mousedown, not click: the textarea must keep focus (and its caret) for the insert.
        onmousedown(e) { e.preventDefault(); insert(i); },
      }, h('span', { class: 'sc', text: '#' + c.shortcut }), h('span', { class: 'txt', text: c.text }))));
      show(list, true);
      live.textContent = t('cannedCount', { n: found.length });
      mark();
    }

    function mark() {
      Array.from(list.children).forEach((li, i) => {
        li.setAttribute('aria-selected', String(i === active));
        if (i === active) li.scrollIntoView({ block: 'nearest' });
      });
      ta.setAttribute('aria-activedescendant', 'canned-opt-' + active);
    }

    function close() {
      if (list.hidden) return;
      show(list, false);
      shown = [];
      token = null;
      live.textContent = '';
      ta.removeAttribute('aria-activedescendant');
    }

    function insert(i) {
      const c = shown[i];
      if (!c || !token) return;
      const v = ta.value;
      ta.value = v.slice(0, token.start) + c.text + v.slice(token.end);
      const caret = token.start + c.text.length;
      ta.setSelectionRange(caret, caret);
      close();
      onInsert(ta.value);
    }

    // Called first by the composer's keydown; true when the key was ours (Enter must not send).
    function key(e) {
      if (list.hidden || e.isComposing) return false;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        active = (active + (e.key === 'ArrowDown' ? 1 : -1) + shown.length) % shown.length;
        mark();
      } else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        insert(active);
      } else if (e.key === 'Escape') {
        dismissed = ta.value.slice(0, ta.selectionStart);
        close();
      } else {
        return false;
      }
      e.preventDefault();
      e.stopPropagation();
      return true;
    }

    ta.addEventListener('input', refresh);
    ta.addEventListener('click', refresh);
    ta.addEventListener('keyup', (e) => { if (/^(Arrow(Left|Right)|Home|End)$/.test(e.key)) refresh(); });
    ta.addEventListener('blur', close);
    subs.add(() => { if (!list.hidden || document.activeElement === ta) refresh(); });
    return { el: h('div', { class: 'canned-pop' }, list, live), key, close };
  }

  // -- the management dialog -----------------------------------------------------------------

  const rows = h('ul', { class: 'canned-list', 'data-testid': 'canned-list' });
  const empty = h('p', { class: 'info-state', ...T('cannedEmpty') });
  const shortcut = h('input', {
    id: 'canned-shortcut', 'data-testid': 'canned-shortcut', maxlength: 32, autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'canned-shortcut-help',
    oninput() { shortcut.value = shortcut.value.toLowerCase(); },
  });
  const text = h('textarea', { id: 'canned-text', 'data-testid': 'canned-text', rows: 4, maxlength: MAX_TEXT, required: true });
  const shared = h('input', { id: 'canned-shared', type: 'checkbox', 'data-testid': 'canned-shared' });
  const sharedRow = h('p', { class: 'check' }, shared, h('label', { for: 'canned-shared', ...T('cannedShared') }));
  const formTitle = h('h3', { id: 'canned-form-title' });
  const error = h('p', { class: 'form-error', 'data-testid': 'canned-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary', 'data-testid': 'canned-save', ...T('save') });
  const reset = h('button', { type: 'button', class: 'plain', 'data-testid': 'canned-new', onclick: () => edit(null), ...T('cannedNew') });
  const form = h('form', { class: 'canned-form', novalidate: true, 'aria-labelledby': 'canned-form-title', onsubmit: submit },
    formTitle,
    h('p', { class: 'field' }, h('label', { for: 'canned-shortcut', ...T('cannedShortcut') }), shortcut,
      h('span', { class: 'help', id: 'canned-shortcut-help', ...T('cannedShortcutHelp') })),
    h('p', { class: 'field' }, h('label', { for: 'canned-text', ...T('cannedText') }), text),
    sharedRow, error, h('p', { class: 'row' }, save, reset));
  const dialog = h('dialog', { class: 'canned-dialog', 'data-testid': 'canned-dialog', 'aria-labelledby': 'canned-title' },
    h('header', { class: 'dialog-head' },
      h('h2', { id: 'canned-title', ...T('cannedTitle') }),
      h('button', { type: 'button', class: 'plain', 'data-testid': 'canned-close', onclick: () => dialog.close(), ...T('closeDialog') })),
    h('p', { class: 'help', ...T('cannedHelp') }),
    empty, rows, form);
  const button = h('button', { type: 'button', class: 'canned-btn', 'data-testid': 'canned-manage', 'aria-haspopup': 'dialog', onclick: openDialog, ...T('cannedTitle') });
  let editing = null; // the item being edited, or null when adding

  function openDialog() {
    if (!dialog.isConnected) document.body.append(dialog);
    edit(null);
    renderRows();
    dialog.showModal();
    load().then(renderRows, () => fail(t('loadFailed')));
    shortcut.focus();
  }

  function renderRows() {
    const admin = isAdmin();
    show(empty, !items.length);
    rows.replaceChildren(...items.map((c) => {
      const mayEdit = !c.shared || admin;
      return h('li', { class: 'canned-row', 'data-testid': 'canned-row', 'data-shortcut': c.shortcut, 'data-shared': String(!!c.shared) },
        h('span', { class: 'row' },
          h('code', { class: 'sc', text: '#' + c.shortcut }),
          c.shared ? h('span', { class: 'tag', ...T('cannedSharedTag') }) : null,
          h('span', { class: 'spacer' }),
          mayEdit ? h('button', { type: 'button', class: 'plain', 'data-testid': 'canned-edit', onclick: () => edit(c), ...T('edit'), 'aria-label': t('editThis', { shortcut: c.shortcut }) }) : null,
          mayEdit ? h('button', { type: 'button', class: 'plain danger-text', 'data-testid': 'canned-delete', onclick: () => remove(c), ...T('delete'), 'aria-label': t('deleteThis', { shortcut: c.shortcut }) }) : null),
        h('span', { class: 'txt', text: c.text }));
    }));
  }

  function edit(c) {
    editing = c;
    show(error, false);
    formTitle.textContent = c ? t('cannedEditing', { shortcut: c.shortcut }) : t('cannedAdd');
    shortcut.value = c ? c.shortcut : '';
    text.value = c ? c.text : '';
    // Renaming or moving between own and shared would be a second item: add a new one instead.
    shortcut.readOnly = !!c;
    shared.checked = !!(c && c.shared);
    shared.disabled = !!c;
    show(sharedRow, isAdmin());
    show(reset, !!c);
    (c ? text : shortcut).focus();
  }

  function fail(msg) {
    error.textContent = msg;
    show(error, true);
  }

  async function submit(e) {
    e.preventDefault();
    const sc = shortcut.value.trim().toLowerCase();
    const body = { text: text.value, shared: isAdmin() && shared.checked };
    shortcut.setAttribute('aria-invalid', String(!SHORTCUT.test(sc)));
    text.setAttribute('aria-invalid', String(!body.text.trim()));
    if (!SHORTCUT.test(sc)) return fail(t('cannedBadShortcut')), shortcut.focus();
    if (!body.text.trim()) return fail(t('cannedNeedText')), text.focus();
    save.disabled = true;
    try {
      await request('PUT', '/agent/canned/' + encodeURIComponent(sc), body);
      await load();
      renderRows();
      edit(null);
    } catch (err) {
      fail(err.status === 403 ? t('forbidden') : err.status ? err.message : t('network'));
    } finally {
      save.disabled = false;
    }
  }

  async function remove(c) {
    show(error, false);
    try {
      await request('DELETE', '/agent/canned/' + encodeURIComponent(c.shortcut) + (c.shared ? '?shared=true' : ''));
      if (editing && editing.shortcut === c.shortcut && editing.shared === c.shared) edit(null);
      await load();
      renderRows();
    } catch (err) {
      fail(err.status === 403 ? t('forbidden') : err.status ? err.message : t('network'));
    }
  }

  return {
    load: ensure,
    // A `canned` frame: a shared response changed while this agent is signed in.
    frame(f) {
      items = applyShared(items, f);
      subs.forEach((fn) => fn());
      if (dialog.open) renderRows();
    },
    attach,
    button,
    destroy() {
      if (dialog.open) dialog.close();
      dialog.remove();
    },
  };
}
