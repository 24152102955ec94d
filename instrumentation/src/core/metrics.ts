import { type Attributes, type Counter, type Histogram, type MeterProvider, metrics } from '@opentelemetry/api';
import * as S from '../semconv.js';
import { SCOPE_NAME, SCOPE_VERSION } from './tracer.js';

/**
 * The convention's client metrics plus a cost counter. Off unless enabled (register turns them
 * on when OTEL_METRICS_EXPORTER names an exporter); the span path never waits on them.
 */
interface Instruments {
  tokens: Histogram;
  duration: Histogram;
  cost: Counter;
}
let instruments: Instruments | undefined;

export function enableMetrics(provider?: MeterProvider): void {
  const meter = (provider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, SCOPE_VERSION);
  instruments = {
    tokens: meter.createHistogram(S.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: S.TOKEN_USAGE_BUCKETS },
    }),
    duration: meter.createHistogram(S.METRIC_GEN_AI_CLIENT_OPERATION_DURATION, {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: S.OPERATION_DURATION_BUCKETS },
    }),
    cost: meter.createCounter(S.METRIC_TM_CLIENT_COST, {
      description: 'Cost of GenAI calls',
      unit: 'USD',
    }),
  };
}

export function disableMetrics(): void {
  instruments = undefined;
}

export function metricsEnabled(): boolean {
  return instruments !== undefined;
}

export interface CallMeasurement {
  attributes: Attributes;
  durationSeconds: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

export function recordCallMetrics(m: CallMeasurement): void {
  const i = instruments;
  if (!i) return;
  i.duration.record(m.durationSeconds, m.attributes);
  if (m.inputTokens !== undefined) {
    i.tokens.record(m.inputTokens, {
      ...m.attributes,
      [S.ATTR_GEN_AI_TOKEN_TYPE]: 'input',
    });
  }
  if (m.outputTokens !== undefined) {
    i.tokens.record(m.outputTokens, {
      ...m.attributes,
      [S.ATTR_GEN_AI_TOKEN_TYPE]: 'output',
    });
  }
  if (m.costUsd !== undefined && m.costUsd > 0) i.cost.add(m.costUsd, m.attributes);
}
