// What waits, shown outside the page: "(N) Charla" in the tab title and a red badge on the favicon
// (drawn on a canvas: no image file, and data: URLs are within the console's CSP).
import { t } from './i18n.js';

const SIZE = 32;

export function createTabBadge(doc = document) {
  const title = doc.title || 'Charla';
  let link = doc.querySelector('link[rel~="icon"]');
  if (!link) {
    link = doc.createElement('link');
    link.rel = 'icon';
    doc.head.append(link);
  }
  const original = link.href;
  let shown = -1;

  function icon(n) {
    const c = doc.createElement('canvas');
    c.width = c.height = SIZE;
    const g = c.getContext && c.getContext('2d');
    if (!g) return original;
    // A filled circle with a centred label: the Charla mark, and the red count on top of it.
    const disc = (x, y, r, colour, label, size, textY) => {
      g.fillStyle = colour;
      g.beginPath();
      g.arc(x, y, r, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = '#fff';
      g.font = `bold ${size}px sans-serif`;
      g.fillText(label, x, textY);
    };
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    disc(14, 18, 13, '#2563eb', 'C', 17, 19);
    if (n > 0) disc(23, 9, 9, '#c2261c', n > 9 ? '9+' : String(n), 12, 10);
    return c.toDataURL('image/png');
  }

  return {
    // n: messages and invitations waiting for this agent.
    set(n) {
      doc.title = n > 0 ? t('unreadTitle', { n, title }) : title;
      if (n === shown) return;
      shown = n;
      link.href = icon(n);
      link.setAttribute('data-unread', String(n));
    },
    destroy() {
      doc.title = title;
      link.href = original;
      link.removeAttribute('data-unread');
    },
  };
}
