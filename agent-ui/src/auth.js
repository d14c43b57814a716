// Cognito tokens via the REST API, kept in sessionStorage (gone with the tab), refreshed two
// minutes before they expire. Every authenticated call sends the raw ID token (no "Bearer").
import { store } from '../../ui-common/storage.js';

const session = store('sessionStorage');
const KEY = 'charla.agent.auth';
const EARLY_MS = 120e3;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.Message) || 'HTTP ' + status);
    this.status = status;
    this.code = body && body.Code;
    this.field = body && body.Field;
  }
}

// onMfaRequired: an admin requires two-step sign-in and this agent has none yet (403 mfa_required).
export function createAuth(apiBase, onExpired, onMfaRequired) {
  let tokens = session.get(KEY);
  let timer;
  let refreshing = null;

  async function post(path, body, token) {
    return call('POST', path, body, token);
  }

  async function call(method, path, body, token) {
    const headers = {};
    if (body) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = token;
    let r;
    try {
      r = await fetch(apiBase + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    } catch (e) {
      throw new ApiError(0, null);
    }
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
  }

  function keep(r) {
    tokens = {
      id_token: r.id_token,
      // Only for POST /agent/me/password (account.js); the refresh answer carries a new one.
      access_token: r.access_token || (tokens && tokens.access_token) || null,
      refresh_token: r.refresh_token || (tokens && tokens.refresh_token),
      expires_at: Date.now() + (r.expires_in || 3600) * 1e3,
    };
    session.set(KEY, tokens);
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (tokens) timer = setTimeout(refresh, Math.max(5e3, tokens.expires_at - Date.now() - EARLY_MS));
  }

  function refresh() {
    if (!tokens || !tokens.refresh_token) return Promise.resolve(false);
    return refreshing || (refreshing = post('/auth/refresh', { refresh_token: tokens.refresh_token })
      .then((r) => { keep(r); return true; }, (e) => {
        if (e.status === 400 || e.status === 401) expire();
        else timer = setTimeout(refresh, 30e3); // offline for now; the token may still be valid
        return false;
      })
      .finally(() => { refreshing = null; }));
  }

  function clear() {
    clearTimeout(timer);
    tokens = null;
    session.del(KEY);
  }

  function expire() {
    if (!tokens) return;
    clear();
    onExpired();
  }

  if (tokens) schedule();

  // Tokens in hand; {mfaSetup: true} when the agent must set up two-step sign-in before anything else.
  function signedIn(r) {
    if (r && r.challenge) return { challenge: r.challenge, session: r.session };
    keep(r);
    return r && r.mfa_setup_required ? { mfaSetup: true } : null;
  }

  return {
    signedIn: () => !!tokens,
    // {challenge, session} when Cognito wants a new password or a TOTP code first; see signedIn().
    async login(email, password) {
      return signedIn(await post('/auth/login', { email, password }));
    },
    async answerChallenge(email, sessionId, newPassword) {
      return signedIn(await post('/auth/challenge', { email, session: sessionId, new_password: newPassword }));
    },
    async answerCode(email, sessionId, code) {
      return signedIn(await post('/auth/challenge', { challenge: 'SOFTWARE_TOKEN_MFA', email, session: sessionId, code }));
    },
    // An authenticated call; one refresh and retry on 401, then the session is over.
    async request(method, path, body) {
      if (!tokens) throw new ApiError(401, null);
      if (Date.now() > tokens.expires_at - 10e3) await refresh();
      try {
        return await call(method, path, body, tokens && tokens.id_token);
      } catch (e) {
        if (e.status === 403 && e.code === 'mfa_required' && onMfaRequired) onMfaRequired();
        if (e.status !== 401 || !(await refresh())) {
          if (e.status === 401) expire();
          throw e;
        }
        return call(method, path, body, tokens.id_token);
      }
    },
    // Signing out revokes this sign-in's refresh token (and the access tokens it issued) at Cognito;
    // the tab forgets its tokens whether or not that call gets through.
    logout() {
      const refreshToken = tokens && tokens.refresh_token;
      clear();
      if (refreshToken) post('/auth/logout', { refresh_token: refreshToken }).catch(() => {});
    },
    accessToken: () => (tokens && tokens.access_token) || null,
    // The session is over (signed out everywhere): forget the tokens and show the sign-in screen.
    end: expire,
  };
}
