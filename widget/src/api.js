// REST for the widget: runtime.json (next to loader.js), public settings, and the visitor's
// identity, which lives in localStorage so the conversation follows the visitor across pages.
import { store } from '../../ui-common/storage.js';

const local = store('localStorage');
const ID_KEY = 'charla.visitor';

// A 429 (the app's per-address limits, or the WAF backstop) is not an outage: say so.
export const unreachable = (e) => (e && e.status === 429 ? 'tooMany' : 'network');

// `group()`: the group the visitor or the page chose, which an offline message is left for.
export function createApi(base, group) {
  let runtime;
  // The loader's first page view may be creating the identity right now: wait for it, then read.
  const loaderDone = () => Promise.resolve(window.Charla && window.Charla._p).catch(() => {});
  let kept = null; // for browsers that refuse storage
  const identity = () => local.get(ID_KEY) || kept;

  const config = () =>
    runtime ||
    (runtime = fetch(base + 'runtime.json').then((r) => {
      if (!r.ok) throw r; // its `status` tells an outage from a limit (unreachable)
      return r.json();
    }).catch((e) => { runtime = null; throw e; }));

  async function call(method, path, auth, body) {
    const { api } = await config();
    const headers = {};
    if (auth) {
      const id = identity();
      headers.Authorization = 'Visitor ' + id.visitor_id + ':' + id.secret;
    }
    if (body) headers['Content-Type'] = 'application/json';
    const r = await fetch(api + path, { method, headers, body: body && JSON.stringify(body) });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw Object.assign(new Error((data && data.Message) || r.statusText), { status: r.status, code: data && data.Code });
    return data;
  }

  async function ensureIdentity() {
    await loaderDone();
    if (!identity()) {
      const created = await call('POST', '/visitor/identity');
      kept = { visitor_id: created.visitor_id, secret: created.secret };
      local.set(ID_KEY, kept);
    }
  }

  // An authenticated call; an identity the server doesn't know (data reset, another deployment)
  // is dropped so the next call starts over.
  async function visitorCall(method, path, body) {
    await ensureIdentity();
    try {
      return await call(method, path, true, body);
    } catch (e) {
      if (e.status === 401) {
        kept = null;
        local.del(ID_KEY);
      }
      throw e;
    }
  }

  return {
    config,
    loaderDone,
    hasIdentity: () => !!identity(),
    visitorId: () => (identity() || {}).visitor_id,
    settings: () => call('GET', '/widget/settings'),
    ticket: () => visitorCall('POST', '/visitor/ws-ticket').then((r) => r.ticket),
    identify: (body) => visitorCall('POST', '/visitor/identify', body),
    offlineForm: (lang) => call('GET', '/widget/offline-form?lang=' + lang),
    offline: (fields, chat_id) => visitorCall('POST', '/visitor/offline', { fields, chat_id, group: group() }),
    req: visitorCall, // files.js
    shown: (ruleId) => visitorCall('POST', '/visitor/greetings/' + encodeURIComponent(ruleId) + '/shown'),
  };
}
