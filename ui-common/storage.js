// Storage throws in some privacy modes and sandboxed frames; the apps must keep working without it.
export function store(area) {
  const s = () => { try { return window[area]; } catch (e) { return null; } };
  return {
    get(k) {
      try { const v = s().getItem(k); return v == null ? null : JSON.parse(v); } catch (e) { return null; }
    },
    set(k, v) {
      try { s().setItem(k, JSON.stringify(v)); } catch (e) { /* quota or disabled */ }
    },
    del(k) {
      try { s().removeItem(k); } catch (e) { /* disabled */ }
    },
  };
}
