import { randomBytes } from 'node:crypto';
import { type CallRow, toCallRow } from '../../ingest/src/pipeline/rows.ts';
import { insertSettings, type Store } from '../../ingest/src/store/client.ts';
import type { AiCall } from '../../instrumentation/src/normalize/types.ts';

/**
 * Calls with a chosen cost, for driving a budget to an exact percentage (the shared seeder
 * makes realistic traffic; budget tests need exact amounts). Rows go through the real builder.
 */
export interface SpendCall {
  at: Date;
  usd: string | null;
  tenant?: string;
  user?: string;
  team?: string;
  feature?: string;
  model?: string;
  provider?: string;
  service?: string;
  status?: 'ok' | 'error';
}

export function spendRow(c: SpendCall): CallRow {
  const call: AiCall = {
    convention: 'gen_ai',
    startTimeUnixNano: BigInt(c.at.getTime()) * 1_000_000n,
    durationNs: 500_000_000n,
    service: c.service ?? 'chat-api',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: '',
    scopeName: '@tokenmeter/instrumentation',
    provider: c.provider ?? 'openai',
    operation: 'chat',
    requestModel: c.model ?? 'gpt-4o',
    responseModel: c.model ?? 'gpt-4o',
    responseId: 'resp',
    finishReasons: ['stop'],
    tenant: c.tenant ?? 'acme',
    userId: c.user ?? 'alice',
    team: c.team ?? 'search',
    feature: c.feature ?? 'chat',
    sessionId: '',
    requestId: '',
    usage: { inputTokens: 1000, outputTokens: 100 },
    estimated: false,
    isStreaming: false,
    isBatch: false,
    spanUnpriced: c.usd === null,
    ttftMs: null,
    status: c.status ?? 'ok',
    errorType: c.status === 'error' ? '500' : '',
  };
  const cost =
    c.usd === null
      ? { source: '' as const, usd: null, priceId: '', priceVersion: '', cacheSavingsUsd: '0' }
      : { source: 'span' as const, usd: c.usd, priceId: 'test', priceVersion: 'test', cacheSavingsUsd: '0' };
  return toCallRow(call, c.tenant ?? 'acme', cost, {});
}

export async function spend(store: Store, calls: SpendCall[]): Promise<void> {
  const values = calls.map(spendRow);
  await store.writer.insert({
    table: `${store.database}.ai_calls`,
    format: 'JSONEachRow',
    values,
    clickhouse_settings: insertSettings(`spend-${randomBytes(12).toString('hex')}`),
  });
}
