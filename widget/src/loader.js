// The one script a site embeds. Budget: 1.5 KB gzipped. It waits for the host page's `load`,
// draws the launcher in an open shadow root (host CSS can't reach in, ours can't leak out) and
// fetches widget.js only when it is likely to be needed.
(function (w, d) {
  if (w.Charla) return; // the snippet pasted twice

  var me = d.currentScript || d.querySelector('script[src*="loader.js"]');
  var base = new URL('.', me.src).href;
  var pending;
  var host;

  var C = (w.Charla = {
    _l: {},
    open: function () {
      boot();
      return load().then(function (x) { x.open(); });
    },
    close: function () {
      if (C._w) C._w.close();
    },
    on: function (ev, fn) {
      (C._l[ev] = C._l[ev] || []).push(fn);
    },
  });

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
    C._c = { host: host, root: root, btn: btn, base: base, lang: me.getAttribute('data-lang') };

    var chatting;
    try { chatting = localStorage.getItem('charla.chat'); } catch (e) { /* storage disabled */ }
    // A conversation in progress should reappear at once; otherwise wait 5 s, then for idle time.
    setTimeout(function () {
      w.requestIdleCallback ? requestIdleCallback(quiet, { timeout: 2000 }) : quiet();
    }, chatting ? 0 : 5000);
  }

  d.readyState === 'complete' ? boot() : w.addEventListener('load', boot);
})(window, document);
