import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { formatScaled, priceCall } from './engine.js';

/** The catalogue's own answer, rounded to 12 decimals as the engine documents. */
function catalogue(provider: string, model: string, u: Record<string, number>): string | undefined {
  const r = calcPrice(u, model, { providerId: provider === 'bedrock' ? 'aws' : provider, timestamp: new Date() });
  if (!r) return undefined;
  const [w, f = ''] = r.total_price.toFixed(12).split('.');
  return formatScaled(BigInt(w ?? '0') * 10n ** 12n + BigInt(f.padEnd(12, '0')));
}

const MODELS: [string, string][] = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o-mini-2024-07-18'],
  ['openai', 'o4-mini'],
  ['openai', 'gpt-4o-audio-preview'],
  ['openai', 'text-embedding-3-small'],
  ['anthropic', 'claude-sonnet-4-5-20250929'],
  ['anthropic', 'claude-3-5-haiku-20241022'],
  ['google', 'gemini-2.5-flash'],
  ['google', 'gemini-2.5-pro'],
  ['bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
  ['deepseek', 'deepseek-chat'],
  ['groq', 'llama-3.3-70b-versatile'],
];

describe('linear fast path equals the catalogue', () => {
  it.each(MODELS)('%s %s, 50 usages past the checked calls', (provider, model) => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 50; i++) {
      const cacheRead = rnd(3) === 0 ? rnd(300_000) : 0;
      const cacheWrite = rnd(3) === 0 ? rnd(100_000) : 0;
      const cacheWrite1h = cacheWrite && rnd(2) ? rnd(cacheWrite) : 0;
      const inputTokens = cacheRead + cacheWrite + rnd(400_000);
      const outputTokens = rnd(50_000);
      const usage = {
        inputTokens,
        outputTokens,
        cacheReadTokens: cacheRead,
        cacheWriteTokens: cacheWrite,
        cacheWrite1hTokens: cacheWrite1h,
      };
      const r = priceCall({ provider, model, usage, timestamp: new Date() });
      const cat: Record<string, number> = { input_tokens: inputTokens, output_tokens: outputTokens };
      if (cacheRead) cat.cache_read_tokens = cacheRead;
      if (cacheWrite) cat.cache_write_tokens = cacheWrite;
      if (cacheWrite1h) cat.cache_write_1h_tokens = cacheWrite1h;
      const expected = catalogue(provider, model, cat);
      expect(r.priced ? r.costUsd : undefined, JSON.stringify(usage)).toBe(expected);
    }
  });
});

describe('tiered prices', () => {
  it('price below the lowest tier by the base rates, at and above it as the catalogue does', () => {
    // gemini-2.5-pro: input, cache reads and output at a higher rate from 200,000 input tokens on.
    const sizes = [1, 999, 5_000, 150_000, 199_999, 200_000, 200_001, 250_000, 120_000, 90_000];
    for (let i = 0; i < 60; i++) {
      const inputTokens = sizes[i % sizes.length]! + (i % 7);
      const cacheRead = i % 3 === 0 ? Math.floor(inputTokens / 2) : 0;
      const outputTokens = (i * 7919) % 90_000;
      const r = priceCall({
        provider: 'google',
        model: 'gemini-2.5-pro',
        usage: { inputTokens, outputTokens, cacheReadTokens: cacheRead },
        timestamp: new Date(),
      });
      const cat: Record<string, number> = { input_tokens: inputTokens, output_tokens: outputTokens };
      if (cacheRead) cat.cache_read_tokens = cacheRead;
      expect(r.priced ? r.costUsd : undefined, JSON.stringify(cat)).toBe(catalogue('google', 'gemini-2.5-pro', cat));
    }
  });
});
