import { type CallCost, costOfCall, type PriceOverride } from '@tokenmeter/instrumentation/prices';
import type { AiCall } from '@tokenmeter/instrumentation/normalize';

/**
 * Cost at ingest time, by the one price rule (`costOfCall`, shared with the instrumentation and
 * reprice): a cost the span already carries is kept (source "span") unless an override covers
 * the call; a span without one is priced here ("ingest", or "default" for a default price); an
 * unknown model stays unpriced (NULL, never $0). Overrides come from `price_overrides` and are
 * swapped in without a restart.
 */
export class IngestPricer {
  private overrides: readonly PriceOverride[] = [];

  setOverrides(overrides: readonly PriceOverride[]): void {
    this.overrides = overrides;
  }

  getOverrides(): readonly PriceOverride[] {
    return this.overrides;
  }

  cost(call: AiCall, tenant: string): CallCost {
    return costOfCall(
      {
        provider: call.provider,
        model: call.requestModel,
        responseModel: call.responseModel,
        usage: call.usage,
        timestamp: new Date(Number(call.startTimeUnixNano / 1_000_000n)),
        batch: call.isBatch,
        tenant,
      },
      this.overrides,
      call.spanCost,
    );
  }
}
