import { createHash } from 'node:crypto';

/** A short stable id from the parts that make an alert distinct. */
export function fingerprintOf(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
}
