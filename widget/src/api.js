// REST for the widget: runtime.json (next to loader.js), public settings, and the visitor's
// identity, which lives in localStorage so the conversation follows the visitor across pages.
import { store } from './core/storage.js';

const local = store('localStorage');
const ID_KEY = 'charla.visitor';

export function createApi(base) {
  let runtime;
  let identity = local.get(ID_KEY);

  const config = () =>
    runtime ||
    (runtime = fetch(base + 'runtime.json').then((r) => {
      if (!r.ok) throw new Error('runtime.json ' + r.status);
      return r.json();
    }).catch((e) => { runtime = null; throw e; }));

  async function call(method, path, auth) {
    const { api } = await config();
    const headers = {};
    if (auth) headers.Authorization = 'Visitor ' + identity.visitor_id + ':' + identity.secret;
    const r = await fetch(api + path, { method, headers });
    const body = await r.json().catch(() => null);
    if (!r.ok) throw Object.assign(new Error((body && body.Message) || r.statusText), { status: r.status });
    return body;
  }

  async function ensureIdentity() {
    if (!identity) {
      identity = await call('POST', '/visitor/identity');
      local.set(ID_KEY, { visitor_id: identity.visitor_id, secret: identity.secret });
    }
    return identity;
  }

  return {
    config,
    hasIdentity: () => !!identity,
    settings: () => call('GET', '/widget/settings'),
    async ticket() {
      await ensureIdentity();
      try {
        return (await call('POST', '/visitor/ws-ticket', true)).ticket;
      } catch (e) {
        // The stored identity is unknown to the server (data reset, another deployment): start over.
        if (e.status === 401) {
          identity = null;
          local.del(ID_KEY);
        }
        throw e;
      }
    },
  };
}
