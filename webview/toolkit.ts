// The only place the webview touches @vscode/webview-ui-toolkit: registers the controls the Memory View uses.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox } from '@vscode/webview-ui-toolkit';

export function registerToolkit(): void {
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox());
}

/** A toolkit button (vscode-button) with a click handler. */
export function button(label: string, onClick: () => void, opts: { appearance?: 'primary' | 'secondary'; disabled?: boolean; title?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', opts.appearance ?? 'secondary');
  if (opts.disabled) b.setAttribute('disabled', '');
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', () => { if (!opts.disabled) onClick(); });
  return b;
}

/** A toolkit checkbox (vscode-checkbox). */
export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, opts: { disabled?: boolean; title?: string } = {}): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  c.checked = checked;
  if (checked) c.setAttribute('checked', '');
  if (opts.disabled) c.setAttribute('disabled', '');
  if (opts.title) c.title = opts.title;
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

/** A tag in the toolkit's badge style. Not vscode-tag: its template binds an inline style attribute, which the
 * webview's CSP (no 'unsafe-inline') blocks, as the UI test's CSP check found. */
export function tag(text: string): HTMLElement {
  const t = document.createElement('span');
  t.className = 'tag';
  t.textContent = text;
  return t;
}
