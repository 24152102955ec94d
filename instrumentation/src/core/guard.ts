import type { CallDescription, CallGuard } from '../types.js';
import { CallBlockedError } from '../types.js';
import { recordFault } from './faults.js';

/**
 * The one place where a call may be stopped before its provider is called (budget guards).
 * A guard throws a `CallBlockedError`; any other exception is our fault and the call goes on.
 */
let guard: CallGuard | undefined;

export function setCallGuard(g: CallGuard | undefined): void {
  guard = g;
}

/** Throws the guard's CallBlockedError, if any; never anything else. */
export function checkGuard(describe: () => CallDescription): void {
  if (!guard) return;
  try {
    guard(describe());
  } catch (err) {
    if (err instanceof CallBlockedError) throw err;
    recordFault('guard', err);
  }
}

export function hasGuard(): boolean {
  return guard !== undefined;
}
