// Which of two Visitors-list lines for one visitor is the newer. A `visitor` frame waits up to a few
// seconds in the agents' notice queue, so it can arrive after the list was re-read: a line read
// before the one shown (`as_of`, the server's time of reading) is older news and is not shown.
export function olderLine(shown, incoming) {
  return Boolean(shown && incoming && shown.as_of && incoming.as_of && incoming.as_of < shown.as_of);
}
