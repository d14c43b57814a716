// The only way either app creates elements. Text goes in through textContent or
// Text nodes, never through HTML parsing, so server-supplied strings stay inert.
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const k in props) {
    const v = props[k];
    if (v == null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids) if (kid != null && kid !== false) el.append(kid);
  return el;
}

export const show = (el, on) => { el.hidden = !on; };

// client_msg_id: 1-64 chars of [A-Za-z0-9_-].
export function rid() {
  const b = crypto.getRandomValues(new Uint8Array(9));
  return Date.now().toString(36) + '-' + Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
}
