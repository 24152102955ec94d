import { type CallCost, costOfCall, type PriceOverride } from '@tokenmeter/instrumentation/prices';
import type { AiCall } from '@tokenmeter/instrumentation/normalize';
import {
  claimExcerpt,
  type CostBounds,
  type CostRefusal,
  DEFAULT_COST_BOUNDS,
  exceedsCap,
  judgeSpanCost,
} from './span-cost.js';

/** A call's cost, and the span's own claim when it was not believed (kept on the row as attributes). */
export interface IngestCost extends CallCost {
  refused?: { reason: CostRefusal; claimUsd: string };
}

/**
 * Cost at ingest time, by the one price rule (`costOfCall`, shared with the instrumentation and
 * reprice): a cost the span already carries is kept (source "span") unless an override covers
 * the call; a span without one is priced here ("ingest", or "default" for a default price); an
 * unknown model stays unpriced (NULL, never $0). Overrides come from `price_overrides` and are
 * swapped in without a restart.
 *
 * A span's claim is believed only within the bounds (span-cost.ts): else the call is priced
 * here as if it carried none, and the claim is returned as `refused`.
 */
export class IngestPricer {
  private overrides: readonly PriceOverride[] = [];

  constructor(readonly bounds: CostBounds = DEFAULT_COST_BOUNDS) {}

  setOverrides(overrides: readonly PriceOverride[]): void {
    this.overrides = overrides;
  }

  getOverrides(): readonly PriceOverride[] {
    return this.overrides;
  }

  cost(call: AiCall, tenant: string): IngestCost {
    const request = {
      provider: call.provider,
      model: call.requestModel,
      responseModel: call.responseModel,
      usage: call.usage,
      timestamp: new Date(Number(call.startTimeUnixNano / 1_000_000n)),
      batch: call.isBatch,
      tenant,
    };
    let reason: CostRefusal | undefined;
    const cost = this.capSavings(
      costOfCall(request, this.overrides, call.spanCost, (claim, priced) => {
        reason = judgeSpanCost(claim, priced, this.bounds);
        return reason === undefined;
      }),
    );
    if (!reason || !call.spanCost) return cost;
    return { ...cost, refused: { reason, claimUsd: claimExcerpt(call.spanCost.usd) } };
  }

  /** What the cache saved is bounded like a cost, so its sums cannot wrap either. */
  private capSavings(cost: CallCost): CallCost {
    return exceedsCap(cost.cacheSavingsUsd, this.bounds) ? { ...cost, cacheSavingsUsd: this.bounds.maxCallUsd } : cost;
  }
}
