// Message text for both apps: untrusted text stays text nodes, and only http(s) addresses become
// links (built as elements, never parsed as HTML), so javascript: or data: can never be linked.
import { h } from './dom.js';

// An http(s) address up to a space, a quote or an angle bracket, without the punctuation that
// usually ends the sentence around it ("see https://x.io/a." links https://x.io/a).
const LINK = /(\bhttps?:\/\/[^\s<>"]*[^\s<>"'.,;:!?)\]}])/i;

// The text split into pieces: even indices are plain text, odd ones http(s) addresses.
export const pieces = (text) => String(text).split(LINK);

// A message's text as a span: direction from its own first strong character (dir=auto), links
// opening in a new tab without giving the opened page a handle on this one.
export function textSpan(text) {
  return h('span', { class: 'text', dir: 'auto' }, ...pieces(text).map((p, i) =>
    i % 2 ? h('a', { href: p, target: '_blank', rel: 'noopener noreferrer' }, p) : p));
}

// hh:mm of an ISO time in the reader's time zone (the browser's) and language.
export const clock = (ts, lang) => h('time', { datetime: ts, text: new Date(ts).toLocaleTimeString(lang, { timeStyle: 'short' }) });
