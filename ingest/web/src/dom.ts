/** A small element builder: the app has no framework, and needs none. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') node.className = String(v);
    else if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

/** Series colours (Grafana's classic palette). */
export const PALETTE = [
  '#7eb26d',
  '#eab839',
  '#6ed0e0',
  '#ef843c',
  '#e24d42',
  '#1f78c1',
  '#ba43a9',
  '#705da0',
  '#508642',
  '#cca300',
  '#447ebc',
  '#c15c17',
];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length] as string;
}

/**
 * A button for an action that cannot be undone (delete, revoke, end): the first click asks
 * (`confirmText`), the second runs `act`; a failure re-enables it and goes to `onError`.
 */
export function confirmButton(
  text: string,
  confirmText: string,
  action: string,
  act: () => Promise<unknown>,
  onError: (err: Error) => void,
): HTMLButtonElement {
  const button = el('button', { class: 'btn danger', type: 'button', 'data-action': action, text });
  button.addEventListener('click', () => {
    if (button.dataset.confirm !== '1') {
      button.dataset.confirm = '1';
      button.textContent = confirmText;
      return;
    }
    button.disabled = true;
    act().catch((err: unknown) => {
      button.disabled = false;
      onError(err as Error);
    });
  });
  return button;
}
