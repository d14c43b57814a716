// Files the console hands to the agent: a blob saved under a name, and a CSV that needs the token in
// a header (so it comes through fetch, not a link) saved the same way.
import { h } from '../../ui-common/dom.js';
import { store } from '../../ui-common/storage.js';

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60e3);
}

export async function downloadCsv(request, api, path, name) {
  await request('GET', '/agent/me'); // refreshes the token first when it is about to expire
  const auth = store('sessionStorage').get('charla.agent.auth') || {};
  const r = await fetch(api + path, { headers: { Authorization: auth.id_token || '' } });
  if (!r.ok) throw new Error('HTTP ' + r.status);
  saveBlob(await r.blob(), name);
}
