"""XSS payloads after the OWASP XSS filter-evasion cheat sheet, for tests/browser/test_xss.py.

Every payload, if a browser ever ran it, sets `window.__xss` (or `parent.__xss` from a frame) or calls
`alert`/`confirm`/`prompt`, which the tests record as a dialog. None contains a control character, so
names (whose control characters the server turns into spaces) keep them as they are.
"""

from __future__ import annotations

PAYLOADS: list[str] = [
    # Plain script tags, casings, nesting and breakouts.
    "<script>window.__xss=1</script>",
    "<SCRIPT>window.__xss=1</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '<script src="data:text/javascript,window.__xss=1"></script>',
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "<<script>window.__xss=1//<</script>",
    "</script><script>window.__xss=1</script>",
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    "</style><script>window.__xss=1</script>",
    '"><script>window.__xss=1</script>',
    "'><script>alert(1)</script>",
    '<IMG """><SCRIPT>window.__xss=1</SCRIPT>">',
    # img / svg / media with error and load handlers, in various casings.
    "<img src=x onerror=window.__xss=1>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=x onerror=window.__xss=1 ",
    "<img src=x onerror=\"window['__x'+'ss']=1\">",
    "<img src=x onerror=eval(atob('d2luZG93Ll9feHNzPTE='))>",
    "<img src=x onerror=eval('\\x77indow.__xss=1')>",
    "<img src=x onerror=\\u0061lert(1)>",
    '<img src=x onerror="&#x77;&#x69;ndow.__xss=1">',
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
    "<svg/onload=window.__xss=1>",
    '"><svg/onload=window.__xss=1>',
    "<svg><script>window.__xss=1</script></svg>",
    "<svg><animate onbegin=window.__xss=1 attributeName=x dur=1s>",
    "<video><source onerror=window.__xss=1></video>",
    "<audio src=x onerror=window.__xss=1>",
    "<body onload=window.__xss=1>",
    "<details open ontoggle=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<marquee onstart=window.__xss=1>m</marquee>",
    "<div onmouseover=window.__xss=1 style=position:fixed;inset:0>hover</div>",
    "<isindex type=image src=1 onerror=window.__xss=1>",
    # javascript: URLs, plain, cased and encoded.
    "javascript:window.__xss=1",
    '<a href="javascript:window.__xss=1">link</a>',
    '<a href="JaVaScRiPt:alert(1)">link</a>',
    '<a href="jav&#x09;ascript:window.__xss=1">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__xss=1">dec</a>',
    "<IMG SRC=`javascript:window.__xss=1`>",
    '<iframe src="javascript:parent.__xss=1"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<object data="javascript:window.__xss=1"></object>',
    '<embed src="javascript:window.__xss=1">',
    '<form><button formaction="javascript:window.__xss=1">go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    # CSS.
    '<div style="width:expression(window.__xss=1)">css</div>',
    '<div style="background:url(javascript:window.__xss=1)">bg</div>',
    "<style>@import 'javascript:window.__xss=1';</style>",
    '<link rel=stylesheet href="javascript:window.__xss=1">',
    # Parser differentials (mutation XSS).
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '<noscript><p title="</noscript><img src=x onerror=window.__xss=1>">',
    '<!--<img src="--><img src=x onerror=window.__xss=1//">',
    # Already-encoded text that must not be decoded into markup.
    "%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e",
    # Script-context and template tricks.
    "';window.__xss=1;//",
    '"-alert(1)-"',
    "`${window.__xss=1}`",
    "{{constructor.constructor('window.__xss=1')()}}",
]

# Those that fit a visitor's name (at most 100 characters) and a file name (no slashes; at most 150
# characters with a ".txt" added).
NAMES = [p for p in PAYLOADS if len(p) <= 100]
FILE_NAMES = [p for p in PAYLOADS if "/" not in p and "\\" not in p and len(p) <= 140]


def batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
