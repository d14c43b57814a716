// Tracking in the widget. The loader reports each page view and its end; here a visible page says
// it is still there every 4 minutes (so a long read keeps the visitor in the agents' list), and
// the admin's automatic greeting rules are timed. Whether a rule may show is the server's call.
const BEAT_MS = 240e3;

export function keepAlive(C) {
  let last = Date.now();
  const beat = () => {
    if (document.visibilityState !== 'visible' || Date.now() - last < BEAT_MS - 1e3) return;
    last = Date.now();
    C._beacon('beat');
  };
  setInterval(beat, BEAT_MS);
  // Back after a long time away: presence may have lapsed, so say so at once.
  document.addEventListener('visibilitychange', beat);
}

// Calls fire(rule) once per rule whose url_contains is in this page's URL, after_seconds after
// the page started (`since`, ms).
export function watchRules(rules, since, fire) {
  for (const r of Array.isArray(rules) ? rules : []) {
    if (!r || typeof r.id !== 'string' || typeof r.url_contains !== 'string') continue;
    if (!location.href.includes(r.url_contains)) continue;
    const wait = (Number(r.after_seconds) || 0) * 1e3 - (Date.now() - since);
    setTimeout(() => fire(r), Math.max(0, wait));
  }
}
