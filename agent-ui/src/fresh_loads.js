// For a form that loads what is stored each time it is shown. An answer older than the newest
// load, or one that would undo what the user changed after that load began, is not put in it.
// Typing, ticking and choosing count as changes, and so does any button that adds or removes a row.
export function freshLoads(form) {
  let edits = 0;
  let loads = 0;
  const edited = () => edits++;
  form.addEventListener('input', edited);
  form.addEventListener('change', edited);
  form.addEventListener('click', (e) => e.target.closest('button[type=button]') && edited());
  return function begin() {
    const mine = ++loads;
    const before = edits;
    return () => mine === loads && edits === before; // still worth putting in the form?
  };
}
