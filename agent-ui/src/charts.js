// Bar charts as inline SVG, built with createElementNS (no libraries, no HTML parsing). Labels and
// tooltips go in as text.
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const k in attrs) if (attrs[k] != null) el.setAttribute(k, attrs[k]);
  if (text != null) el.textContent = text;
  return el;
}

// bars: [{label, value, title}]; every `labelEvery`-th label is drawn under its bar.
export function barChart({ testid, label, bars, labelEvery = 1 }) {
  const W = 640, H = 200, top = 16, bottom = 28, left = 32;
  const max = Math.max(1, ...bars.map((b) => b.value || 0));
  const step = (W - left) / Math.max(1, bars.length);
  const svg = s('svg', { class: 'chart', 'data-testid': testid, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label });
  svg.append(s('title', null, label));
  const plot = H - top - bottom;
  svg.append(s('line', { class: 'axis', x1: left, y1: H - bottom, x2: W, y2: H - bottom }));
  svg.append(s('text', { class: 'tick', x: left - 4, y: top + 4, 'text-anchor': 'end' }, String(max)));
  svg.append(s('text', { class: 'tick', x: left - 4, y: H - bottom, 'text-anchor': 'end' }, '0'));
  bars.forEach((b, i) => {
    const v = b.value || 0;
    const hgt = Math.round((v / max) * plot);
    const x = left + i * step + step * 0.15;
    const g = s('g', { class: 'bar', 'data-testid': 'chart-bar', 'data-value': v, 'data-label': b.label });
    g.append(s('title', null, b.title || b.label + ': ' + v));
    g.append(s('rect', { x: x.toFixed(1), y: H - bottom - hgt, width: (step * 0.7).toFixed(1), height: hgt }));
    if (i % labelEvery === 0) {
      g.append(s('text', { class: 'tick', x: (x + step * 0.35).toFixed(1), y: H - bottom + 16, 'text-anchor': 'middle' }, b.label));
    }
    svg.append(g);
  });
  return svg;
}
