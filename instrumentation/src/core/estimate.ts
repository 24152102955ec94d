import { recordFault } from './faults.js';

/**
 * Token estimation, only for calls whose provider gave no usage (a stream cut short, a host
 * that sends none). Loaded on first use: the o200k ranks take ~0.5 s and several MB.
 */
type Encoder = { encode(text: string): number[] };
let encoder: Encoder | null | undefined;

function getEncoder(): Encoder | null {
  if (encoder !== undefined) return encoder;
  try {
    const { Tiktoken } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    const ranks = require('js-tiktoken/ranks/o200k_base') as {
      default?: unknown;
    };
    encoder = new Tiktoken((ranks.default ?? ranks) as ConstructorParameters<typeof Tiktoken>[0]);
  } catch (err) {
    recordFault('estimate.load', err);
    encoder = null;
  }
  return encoder;
}

/** Estimated tokens of `text` (o200k encoding; a 4-characters-a-token guess if it cannot load). */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const enc = getEncoder();
  if (!enc) return Math.ceil(text.length / 4);
  try {
    return enc.encode(text).length;
  } catch (err) {
    recordFault('estimate.encode', err);
    return Math.ceil(text.length / 4);
  }
}
