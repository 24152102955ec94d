import { priceCall, type PriceOverride, type Usage } from '@tokenmeter/instrumentation/prices';
import type { AiCall } from '@tokenmeter/instrumentation/normalize';
import { formatScaled, parseUsd } from '@tokenmeter/instrumentation/prices';
import type { CallCost } from './rows.js';

/**
 * Cost at ingest time, from the same price engine as the instrumentation.
 * A cost the span already carries is kept (source "span"); a span without one is
 * priced here (source "ingest"); an unknown model stays unpriced (NULL, never $0).
 * Overrides come from `price_overrides` and are swapped in without a restart.
 */
export class IngestPricer {
  private overrides: readonly PriceOverride[] = [];

  setOverrides(overrides: readonly PriceOverride[]): void {
    this.overrides = overrides;
  }

  getOverrides(): readonly PriceOverride[] {
    return this.overrides;
  }

  cost(call: AiCall): CallCost {
    const timestamp = new Date(Number(call.startTimeUnixNano / 1_000_000n));
    const request = {
      provider: call.provider,
      model: call.responseModel || call.requestModel,
      timestamp,
      batch: call.isBatch,
    };
    const priced = priceCall({ ...request, usage: call.usage }, this.overrides);
    const savings = priced.priced ? this.cacheSavings(request, call.usage, priced.costUsd) : '0';
    if (call.spanCost) {
      return {
        source: 'span',
        usd: call.spanCost.usd,
        priceId: call.spanCost.priceId,
        priceVersion: call.spanCost.priceVersion,
        cacheSavingsUsd: savings,
      };
    }
    if (!priced.priced) return { source: '', usd: null, priceId: '', priceVersion: '', cacheSavingsUsd: '0' };
    return {
      source: 'ingest',
      usd: priced.costUsd,
      priceId: priced.priceId,
      priceVersion: priced.priceVersion,
      cacheSavingsUsd: savings,
    };
  }

  /** What the cache reads saved: the same call priced as if every input token were uncached. */
  private cacheSavings(request: Omit<Parameters<typeof priceCall>[0], 'usage'>, usage: Usage, costUsd: string): string {
    if (!usage.cacheReadTokens) return '0';
    const uncached = priceCall({ ...request, usage: { ...usage, cacheReadTokens: 0 } }, this.overrides);
    if (!uncached.priced) return '0';
    const diff = parseUsd(uncached.costUsd) - parseUsd(costUsd);
    return diff > 0n ? formatScaled(diff) : '0';
  }
}
