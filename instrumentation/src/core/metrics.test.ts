import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect, it } from 'vitest';
import { priceCall } from '../prices/engine.js';
import * as S from '../semconv.js';
import { setupTracing } from '../test-support/tracing.js';
import { startCall } from './call.js';
import { disableMetrics, enableMetrics } from './metrics.js';

setupTracing();

it('records the convention’s token and duration histograms (with its buckets) and a cost counter', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 60_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  enableMetrics(provider);
  const call = startCall({
    provider: 'openai',
    operation: 'chat',
    requestModel: 'gpt-4o-mini',
    isStreaming: false,
  });
  call.usage = { inputTokens: 19, outputTokens: 8 };
  call.end();
  await reader.forceFlush();
  disableMetrics();
  const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  const byName = Object.fromEntries(metrics.map((m) => [m.descriptor.name, m]));
  const tokens = byName[S.METRIC_GEN_AI_CLIENT_TOKEN_USAGE];
  const duration = byName[S.METRIC_GEN_AI_CLIENT_OPERATION_DURATION];
  const cost = byName[S.METRIC_TM_CLIENT_COST];
  expect(tokens?.descriptor.unit).toBe('{token}');
  const points = tokens?.dataPoints as any[];
  const input = points.find((p) => p.attributes['gen_ai.token.type'] === 'input');
  const output = points.find((p) => p.attributes['gen_ai.token.type'] === 'output');
  expect(input?.value.sum).toBe(19);
  expect(output?.value.sum).toBe(8);
  expect(input?.value.buckets.boundaries).toEqual(S.TOKEN_USAGE_BUCKETS);
  expect(input?.attributes).toMatchObject({
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
  });
  expect((duration?.dataPoints[0] as any)?.value.buckets.boundaries).toEqual(S.OPERATION_DURATION_BUCKETS);
  expect(duration?.descriptor.unit).toBe('s');
  const expected = priceCall({
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: { inputTokens: 19, outputTokens: 8 },
    timestamp: new Date(),
  });
  expect(cost?.dataPoints[0]?.value).toBeCloseTo(Number(expected.priced ? expected.costUsd : Number.NaN), 12);
});
