// Files in chats (docs/protocol.md, "Files in chats"). The composer's file button, a drop and a
// paste hand files here: each goes up through a grant and a presigned S3 POST, then the console
// sends it as a `file` message. A file message shows as a thumbnail that opens full size (images)
// or as a download link; both fetch a short presigned link from the chat's files route.
import { h, show } from '../../ui-common/dom.js';
import { t, L, errorText } from './i18n.js';

const IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
const LINK_MS = 240e3; // links live 300 s on the server; reuse one for a little less
const enc = encodeURIComponent;

export function createChatFiles({ request, flash }) {
  const links = new Map(); // chat_id/file_id -> {at, p}
  const full = h('img', { class: 'file-full-img', 'data-testid': 'file-full-img', alt: '' });
  const fullName = h('p', { class: 'file-full-name', dir: 'auto' });
  const closeBtn = h('button', { type: 'button', class: 'file-full-close', 'data-testid': 'file-full-close', ...L('closePanel'), text: '×', onclick: () => dialog.close() });
  const dialog = h('dialog', { class: 'file-full', 'data-testid': 'file-full', onclick: (e) => { if (e.target === dialog) dialog.close(); } },
    closeBtn, full, fullName);
  document.body.append(dialog);

  function link(chatId, fileId) {
    const k = chatId + '/' + fileId;
    const got = links.get(k);
    if (got && Date.now() - got.at < LINK_MS) return got.p;
    const p = request('GET', '/agent/chats/' + enc(chatId) + '/files/' + enc(fileId));
    links.set(k, { at: Date.now(), p });
    p.catch(() => links.delete(k));
    return p;
  }

  // Resolves to the `file` object a `send` frame names by its file_id.
  async function upload(chatId, f) {
    const r = await request('POST', '/agent/chats/' + enc(chatId) + '/files', { name: f.name, content_type: f.type || 'application/octet-stream', size: f.size });
    const form = new FormData();
    for (const [k, v] of Object.entries(r.upload.fields || {})) form.append(k, v);
    form.append('file', f);
    // The answer is opaque (no-cors): the `send` that follows checks what reached S3.
    await fetch(r.upload.url, { method: 'POST', body: form, mode: 'no-cors' });
    return r.file;
  }

  function failed(name, e) {
    flash(t('uploadFailed', { name, reason: errorText(e) }));
  }

  async function download(chatId, file) {
    try {
      window.location.assign((await link(chatId, file.file_id)).url); // served as an attachment: the page stays
    } catch (e) {
      flash(t('loadFailed'));
    }
  }

  async function open(chatId, file) {
    try {
      full.src = (await link(chatId, file.file_id)).url;
      full.alt = file.name;
      fullName.textContent = file.name;
      if (!dialog.open) dialog.showModal();
    } catch (e) {
      flash(t('loadFailed'));
    }
  }

  // A file message's body: a thumbnail button, or a link, with the name and size as text.
  function render(chatId, file) {
    const label = h('span', { class: 'file-name', dir: 'auto', text: file.name });
    const meta = h('span', { class: 'size', text: ' (' + size(file.size) + ')' });
    const get = h('button', { type: 'button', class: 'link file-link', 'data-testid': 'file-link', onclick: () => download(chatId, file) }, label, meta);
    if (!IMAGES.includes(file.content_type)) return h('span', { class: 'text file' }, get);
    const img = h('img', { class: 'file-thumb-img', alt: file.name, 'data-testid': 'file-thumb-img' });
    const thumb = h('button', { type: 'button', class: 'file-thumb', 'data-testid': 'file-thumb', ...L('openImage'), onclick: () => open(chatId, file) }, img);
    show(thumb, false);
    link(chatId, file.file_id).then((r) => { img.src = r.url; show(thumb, true); }, () => {});
    return h('span', { class: 'text file' }, thumb, get);
  }

  // The composer's file button, and drop and paste on `target`; `take(file)` sends one file.
  function attach(target, take, enabled) {
    const input = h('input', { type: 'file', class: 'sr', 'data-testid': 'file-input', tabindex: '-1', multiple: true, ...L('sendFileLabel'),
      onchange() { for (const f of Array.from(input.files || [])) take(f); input.value = ''; } });
    const button = h('button', { type: 'button', class: 'file-button', 'data-testid': 'file-button', ...L('sendFileLabel'), onclick: () => input.click() }, paperclip());
    target.addEventListener('dragover', (e) => { if (enabled() && hasFiles(e.dataTransfer)) { e.preventDefault(); target.setAttribute('data-drop', ''); } });
    target.addEventListener('dragleave', () => target.removeAttribute('data-drop'));
    target.addEventListener('drop', (e) => {
      target.removeAttribute('data-drop');
      if (!enabled() || !hasFiles(e.dataTransfer)) return;
      e.preventDefault();
      for (const f of Array.from(e.dataTransfer.files)) take(f);
    });
    target.addEventListener('paste', (e) => {
      const found = Array.from((e.clipboardData && e.clipboardData.files) || []);
      if (!enabled() || !found.length) return;
      e.preventDefault();
      for (const f of found) take(f);
    });
    return { button, input };
  }

  return { upload, render, attach, failed, destroy: () => dialog.remove() };
}

const hasFiles = (dt) => !!dt && Array.from(dt.types || []).includes('Files');

function size(n) {
  const kb = (n || 0) / 1024;
  return kb < 1024 ? Math.max(1, Math.round(kb)) + ' KB' : (kb / 1024).toFixed(1) + ' MB';
}

// A drawn paperclip: an emoji would need a colour-emoji font, which many agents' systems lack.
function paperclip() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const path = document.createElementNS(ns, 'path');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '18', height: '18', 'aria-hidden': 'true', focusable: 'false' })) svg.setAttribute(k, v);
  for (const [k, v] of Object.entries({ d: 'M16 7v9a4 4 0 0 1-8 0V6a2.5 2.5 0 0 1 5 0v9a1 1 0 0 1-2 0V7', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.8', 'stroke-linecap': 'round' })) path.setAttribute(k, v);
  svg.append(path);
  return svg;
}
