import { COST_SCALE, formatScaled } from '@tokenmeter/instrumentation/prices';

/**
 * Money from billing APIs as exact integers at tokenmeter's 12-decimal scale. OpenAI's
 * `amount.value` is a JSON number or a decimal string in USD; Anthropic's `amount` is a
 * decimal string in cents. Neither is ever summed as a float.
 */
export function usdToScaled(value: unknown, field: string): bigint {
  const text = typeof value === 'number' ? numberText(value) : value;
  if (typeof text !== 'string')
    throw new Error(`${field} must be a number or a decimal string, got ${JSON.stringify(value)}`);
  return decimalToScaled(text, 0, field);
}

export function centsToScaled(value: unknown, field: string): bigint {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new Error(`${field} must be a decimal string of cents, got ${JSON.stringify(value)}`);
  }
  return decimalToScaled(typeof value === 'number' ? numberText(value) : value, 2, field);
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`amount is not finite: ${n}`);
  // Shortest round-trip text, expanded out of exponent notation (1e-7 → 0.0000001).
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** '123.45' with `shift` = 2 (cents) → 1.2345 USD at 12 decimals, rounded half away from zero past the scale. */
function decimalToScaled(text: string, shift: number, field: string): bigint {
  const m = /^\s*(-?)(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`${field} is not a decimal: ${JSON.stringify(text)}`);
  const digits = COST_SCALE - shift;
  const frac = m[3] ?? '';
  let v = BigInt(m[2]!) * 10n ** BigInt(digits) + BigInt((frac.slice(0, digits) || '0').padEnd(digits, '0'));
  if (frac.length > digits && Number(frac[digits]) >= 5) v += 1n;
  return m[1] ? -v : v;
}

export function usd(scaled: bigint): string {
  return formatScaled(scaled);
}
