// The Memory View's controls: native buttons and checkboxes in VS Code's look (its theme variables, media/
// memory-view.css). No component library: the deprecated webview UI toolkit cost 80 KiB of script and about 40 ms of the
// first render in a new window.

/** A button in VS Code's style (`primary` or `secondary`) with a click handler. */
export function button(label: string, onClick: () => void, opts: { appearance?: 'primary' | 'secondary'; disabled?: boolean; title?: string } = {}): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.className = `button ${opts.appearance ?? 'secondary'}`;
  b.disabled = opts.disabled ?? false;
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', () => { if (!b.disabled) onClick(); });
  return b;
}

/** A labelled checkbox; `onChange` gets the new state. */
export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, opts: { disabled?: boolean; title?: string } = {}): HTMLLabelElement {
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = checked;
  box.disabled = opts.disabled ?? false;
  box.addEventListener('change', () => onChange(box.checked));
  const l = document.createElement('label');
  l.className = 'checkbox';
  if (opts.title) l.title = opts.title;
  l.append(box, label);
  return l;
}

/** A tag in VS Code's badge style. */
export function tag(text: string): HTMLElement {
  const t = document.createElement('span');
  t.className = 'tag';
  t.textContent = text;
  return t;
}
