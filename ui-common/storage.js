// Storage throws in some privacy modes and sandboxed frames; the apps must keep working without it.
export function store(area) {
  const s = () => { try { return window[area]; } catch (e) { return null; } };
  return {
    get(k) {
      try { return JSON.parse(s().getItem(k)); } catch (e) { return null; } // JSON.parse(null): null
    },
    set(k, v) {
      try { s().setItem(k, JSON.stringify(v)); } catch (e) { /* quota or disabled */ }
    },
    del(k) {
      try { s().removeItem(k); } catch (e) { /* disabled */ }
    },
  };
}
