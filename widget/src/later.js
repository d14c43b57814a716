// What few visitors need, fetched on first use (widget.js `later()`), so the budget every visitor
// downloads doesn't carry it: the offline form (offline.js), and files in chats: the upload (a grant,
// then the presigned S3 POST) and a file message's body (a thumbnail and a link for images, a
// download link for anything else), with their own few strings.
import { h } from '../../ui-common/dom.js';
import { mountOffline } from './offline.js';

const enc = encodeURIComponent;
const IMG = /^image\/(png|jpeg|gif|webp)$/;
const SAY = {
  en: { attachment_refused: "This type of file can't be sent.", attachment_too_large: 'The file is too large.', forbidden: 'Sending files is turned off.' },
  es: { attachment_refused: 'Este tipo de archivo no se puede enviar.', attachment_too_large: 'El archivo es demasiado grande.', forbidden: 'El envío de archivos está desactivado.' },
};

window.Charla._x = {
  mountOffline,

  // Resolves to the `file` object the `send` frame names by its file_id; a refusal's message is in `lang`.
  async up(api, chatId, f, lang) {
    try {
      const r = await api.req('POST', '/visitor/chats/' + enc(chatId) + '/files', { name: f.name, content_type: f.type || 'application/octet-stream', size: f.size });
      const form = new FormData();
      for (const k in r.upload.fields) form.append(k, r.upload.fields[k]);
      form.append('file', f);
      // The answer is opaque (no-cors, so the bucket needs no CORS for the site): `send` checks what arrived.
      await fetch(r.upload.url, { method: 'POST', body: form, mode: 'no-cors' });
      return r.file;
    } catch (e) {
      e.message = (SAY[lang] || SAY.en)[e.code] || e.message;
      throw e;
    }
  },

  // Fills a file message's element: a download link, and for an image a thumbnail before it.
  show(el, file, api, chatId) {
    const get = () => api.req('GET', '/visitor/chats/' + enc(chatId) + '/files/' + enc(file.file_id));
    const kb = Math.max(1, Math.round(file.size / 1024));
    const link = h('a', {
      href: '#', class: 'dl', 'data-testid': 'charla-file-link', dir: 'auto',
      text: file.name + ' (' + (kb < 1024 ? kb + ' KB' : (kb / 1024).toFixed(1) + ' MB') + ')',
      // Served as an attachment: the host page stays.
      onclick(e) { e.preventDefault(); get().then((r) => location.assign(r.url), () => {}); },
    });
    el.replaceChildren(link);
    if (IMG.test(file.content_type)) {
      get().then((r) => el.prepend(h('img', { src: r.url, alt: file.name, 'data-testid': 'charla-file-thumb' })), () => {});
    }
  },
};
