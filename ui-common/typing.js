// Typing notices: at most one `typing: true` per `every` ms (the last draft is never dropped:
// a trailing notice carries it), and `typing: false` after `idle` ms without input.
export function typingNotifier(emit, every = 500, idle = 4000) {
  let last = 0;
  let on = false;
  let trail, idleTimer;
  const fire = (draft) => {
    last = Date.now();
    on = true;
    emit(true, draft);
  };
  const stop = () => {
    clearTimeout(trail);
    clearTimeout(idleTimer);
    if (on) {
      on = false;
      emit(false);
    }
  };
  return {
    input(draft) {
      clearTimeout(trail);
      clearTimeout(idleTimer);
      if (!draft.trim()) return stop();
      idleTimer = setTimeout(stop, idle);
      const wait = last + every - Date.now();
      if (wait <= 0) fire(draft);
      else trail = setTimeout(() => fire(draft), wait);
    },
    stop,
  };
}
