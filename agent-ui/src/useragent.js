// A short "Chrome 126 on Windows" label from a User-Agent string, for the visitor panel. Order
// matters: Edge and Opera also say "Chrome", Chrome also says "Safari", Android also says "Linux".
const BROWSERS = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\b(?:OPR|Opera)\/(\d+)/],
  ['Samsung Internet', /\bSamsungBrowser\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /(?:Chrome|CriOS)\/(\d+)/], // also HeadlessChrome
  ['Safari', /\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//],
];
const SYSTEMS = [
  ['Windows', /Windows NT|Windows Phone/],
  ['Android', /Android/],
  ['iOS', /iPhone|iPad|iPod/],
  ['ChromeOS', /\bCrOS\b/],
  ['macOS', /Mac OS X|Macintosh/],
  ['Linux', /Linux|X11/],
];

// Returns {browser, os} (either may be null).
export function parseUserAgent(ua) {
  const s = typeof ua === 'string' ? ua : '';
  let browser = null;
  for (const [name, re] of BROWSERS) {
    const m = re.exec(s);
    if (m) {
      browser = name + ' ' + m[1];
      break;
    }
  }
  const os = (SYSTEMS.find(([, re]) => re.test(s)) || [null])[0];
  return { browser, os };
}
