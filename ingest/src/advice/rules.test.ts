import { describe, expect, it } from 'vitest';
import { priceCall } from '@tokenmeter/instrumentation/prices';
import type { TrafficGroup } from './read.js';
import { cheaperModel } from './rules.js';

/** 30 days of small calls on one model, costed by the catalogue as ingest would. */
function smallCalls(provider: string, model: string): TrafficGroup {
  const calls = 3_000;
  const at = new Date();
  // Odd token counts so the average call is rounded: the window's cost and the average call's
  // cost × calls differ by a few nano-dollars, which must not read as a saving.
  const inputTokens = 1_200_457;
  const outputTokens = 60_011;
  const price = priceCall({ provider, model, usage: { inputTokens, outputTokens }, timestamp: at });
  if (!price.priced) throw new Error(`${model} has no catalogue price`);
  return {
    service: 'router',
    feature: 'route',
    provider,
    model,
    requests: calls,
    errors: 0,
    unpriced: 0,
    anonymous: 0,
    inputTokens,
    outputTokens,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: price.costUsd,
    streamed: false,
  };
}

describe('cheaperModel', () => {
  const ctx = { daysObserved: 30, at: new Date() };

  it('never advises a dated snapshot to move to its own model', () => {
    expect(cheaperModel(smallCalls('anthropic', 'claude-haiku-4-5-20251001'), ctx)).toBeUndefined();
    expect(cheaperModel(smallCalls('openai', 'gpt-4o-mini-2024-07-18'), ctx)?.basis.suggested).not.toBe('gpt-4o-mini');
  });

  it('still advises a snapshot of a larger model to move to a smaller one', () => {
    const a = cheaperModel(smallCalls('anthropic', 'claude-sonnet-4-5-20250929'), ctx);
    expect(a?.basis.suggested).toBe('claude-haiku-4-5');
    expect(a!.monthlySavings).toBeGreaterThan(1);
  });
});
