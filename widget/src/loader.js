// The one script a site embeds. Budget: 1.5 KB gzipped. It reports the page view at once (the
// full widget need not be open), waits for the host page's `load`, draws the launcher in an open
// shadow root (host CSS can't reach in, ours can't leak out) and fetches widget.js only when it is
// likely to be needed. `window.Charla` keeps calls made before widget.js arrives.
(function (w, d) {
  if (w.Charla) return; // the snippet pasted twice

  var me = d.currentScript || d.querySelector('script[src*="loader.js"]');
  var base = new URL('.', me.src).href;
  var pending;
  var host;
  var url; // POST /visitor/pageview, once runtime.json named the API; 0 when not tracking
  var left;
  var queue = [];

  function store(area, k, v) {
    try {
      return v === void 0 ? JSON.parse(w[area].getItem(k)) : w[area].setItem(k, JSON.stringify(v));
    } catch (e) { /* storage disabled */ }
  }

  var C = (w.Charla = {
    _l: {},
    _q: queue,
    open: function () {
      boot();
      return load().then(function (x) { x.open(); });
    },
    on: function (ev, fn) {
      (C._l[ev] = C._l[ev] || []).push(fn);
    },
    // Hidden: no launcher and no greeting; open() still shows the panel (a site's own button).
    hide: function () {
      C._h = 1;
      if (host) host.setAttribute('data-hidden', '');
      C.close();
    },
    show: function () {
      C._h = 0;
      if (host) host.removeAttribute('data-hidden');
    },
  });
  // Kept until widget.js arrives, which replays them in order and settles their promises.
  'close setLanguage setIdentity setGroup'.split(' ').forEach(function (k) {
    C[k] = function () {
      var a = arguments;
      return C._w ? C._w[k].apply(0, a) : new Promise(function (ok) { queue.push([k, a, ok]); });
    };
  });

  // -- page views (docs/protocol.md, "Tracking") ---------------------------------------------
  // A view now; a leave with the time on page when the page goes away. A 204 means the admin
  // turned tracking off: nothing more is sent during this browser session.
  function beacon(ev, body) {
    var id = store('localStorage', 'charla.visitor') || {};
    body.visitor_id = id.visitor_id;
    body.secret = id.secret;
    body.pv = C._pv;
    body.event = ev;
    return JSON.stringify(body);
  }

  function view() {
    C._pv = Math.random().toString(36).slice(2);
    C._t = Date.now();
    left = 0;
    if (store('sessionStorage', 'charla.nt')) return;
    C._p = fetch(base + 'runtime.json').then(function (r) { return r.json(); }).then(function (rt) {
      url = rt.api + '/visitor/pageview';
      return fetch(url, { method: 'POST', keepalive: true, body: beacon('view', {
        // cut to the server's limits, which refuse longer text
        url: location.href.slice(0, 2000), title: d.title.slice(0, 300), referrer: d.referrer.slice(0, 2000),
        language: navigator.language,
        // As the widget last read it: reading it here would be Intl's first use on the host page (ICU
        // loading its data, about 20 ms of main thread in a fresh tab). A first visit sends none.
        timezone: store('localStorage', 'charla.tz') || void 0,
      }) });
    }).then(function (r) {
      if (r.status != 200) {
        url = 0;
        if (r.status == 204) store('sessionStorage', 'charla.nt', 1);
        return;
      }
      return r.json().then(function (b) {
        if (b.secret) store('localStorage', 'charla.visitor', { visitor_id: b.visitor_id, secret: b.secret });
        C._g = b.greeting;
        if (C._w) C._w.greet(b.greeting);
      });
    }).catch(function () {});
  }
  C._beacon = function (ev) {
    if (url && !left) navigator.sendBeacon(url, beacon(ev, { seconds: Math.round((Date.now() - C._t) / 1e3) }));
  };
  w.addEventListener('pagehide', function () {
    C._beacon('leave');
    left = 1;
  });
  // Back from the back/forward cache: the loader doesn't run again, so this is a new page view.
  w.addEventListener('pageshow', function (e) { if (e.persisted) view(); });
  view();
  C._t = Date.now() - (w.performance ? performance.now() : 0); // from navigation start

  // -- the launcher and the widget -------------------------------------------------------------
  function load() {
    return pending || (pending = new Promise(function (ok, no) {
      var s = d.createElement('script');
      s.src = base + 'widget.js';
      s.async = true;
      s.onload = function () { C._w ? ok(C._w) : no(); };
      s.onerror = function () {
        pending = 0; // let a later click try again
        s.remove();
        no();
      };
      d.head.appendChild(s);
    }));
  }

  function quiet() {
    load().catch(function () {});
  }

  function boot() {
    if (host) return;
    host = d.createElement('div');
    host.setAttribute('data-charla', '');
    if (C._h) host.setAttribute('data-hidden', '');
    var root = host.attachShadow({ mode: 'open' });
    var css = d.createElement('link');
    var btn = d.createElement('button');
    css.rel = 'stylesheet';
    css.href = base + 'widget.css';
    btn.type = 'button';
    btn.className = 'launcher';
    btn.hidden = true; // until styled, so it never flashes as a bare button in the page
    btn.setAttribute('data-testid', 'charla-launcher');
    btn.setAttribute('aria-label', 'Chat');
    btn.setAttribute('aria-expanded', 'false');
    css.onload = function () { btn.hidden = false; };
    btn.onclick = function () {
      C._w ? C._w.toggle() : C.open().catch(function () {});
    };
    btn.onpointerenter = btn.onfocus = quiet;
    root.append(css, btn);
    d.body.appendChild(host);
    C._c = { host: host, root: root, btn: btn, base: base, lang: me.getAttribute('data-lang'), group: me.getAttribute('data-group') };

    // A conversation in progress should reappear at once; otherwise wait 5 s, then for idle time.
    setTimeout(function () {
      w.requestIdleCallback ? requestIdleCallback(quiet, { timeout: 2000 }) : quiet();
    }, store('localStorage', 'charla.chat') ? 0 : 5000);
  }

  d.readyState === 'complete' ? boot() : w.addEventListener('load', boot);
})(window, document);
