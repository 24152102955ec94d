import { add, type Fetch, getAllPages } from './http.js';
import { centsToScaled } from './money.js';
import { addUsage } from './openai.js';
import { type BilledDay, canonicalModel } from './types.js';

/**
 * Anthropic's Admin API usage and cost reports (admin key, `x-api-key`):
 * - GET /v1/organizations/cost_report, 1d buckets grouped by workspace_id and description;
 *   `amount` is a decimal string in the lowest currency unit (cents: "123.45" is $1.2345);
 *   `model` is set on token costs, null on others (web search, code execution);
 * - GET /v1/organizations/usage_report/messages grouped by model: tokens per kind
 *   (`uncached_input_tokens`, `cache_read_input_tokens`, `cache_creation.*`, `output_tokens`).
 * Times are RFC 3339; a bucket covers [starting_at, ending_at).
 */
interface Page<R> {
  data?: { starting_at?: string; ending_at?: string; results?: R[] }[];
}
interface CostResult {
  amount?: string;
  currency?: string;
  model?: string | null;
  workspace_id?: string | null;
  cost_type?: string | null;
}
interface UsageResult {
  model?: string | null;
  uncached_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number };
  output_tokens?: number;
}

export const ANTHROPIC_VERSION = '2023-06-01';

export async function fetchAnthropicDay(
  cfg: { adminKey: string; baseUrl: string },
  day: string,
  doFetch: Fetch = fetch,
): Promise<BilledDay> {
  const start = new Date(`${day}T00:00:00Z`);
  const end = new Date(start.getTime() + 86_400_000);
  const headers = { 'x-api-key': cfg.adminKey, 'anthropic-version': ANTHROPIC_VERSION, accept: 'application/json' };
  const window = (path: string) => {
    const u = new URL(`${cfg.baseUrl}${path}`);
    u.searchParams.set('starting_at', start.toISOString());
    u.searchParams.set('ending_at', end.toISOString());
    u.searchParams.set('bucket_width', '1d');
    return u;
  };
  const costUrl = window('/v1/organizations/cost_report');
  costUrl.searchParams.append('group_by[]', 'workspace_id');
  costUrl.searchParams.append('group_by[]', 'description');
  const usageUrl = window('/v1/organizations/usage_report/messages');
  usageUrl.searchParams.append('group_by[]', 'model');

  const billed: BilledDay = {
    provider: 'anthropic',
    day,
    hasData: false,
    total: 0n,
    byModel: new Map(),
    byProject: new Map(),
    usageByModel: new Map(),
  };
  const isDay = (s: string | undefined) => s !== undefined && Date.parse(s) === start.getTime();
  for (const page of await getAllPages<Page<CostResult>>('anthropic', costUrl, headers, doFetch)) {
    for (const bucket of page.data ?? []) {
      if (!isDay(bucket.starting_at)) continue;
      for (const r of bucket.results ?? []) {
        const currency = (r.currency ?? 'USD').toUpperCase();
        if (currency !== 'USD') throw new Error(`anthropic cost_report: currency ${currency} is not USD`);
        const v = centsToScaled(r.amount, 'anthropic cost_report amount');
        billed.hasData = true;
        billed.total += v;
        add(billed.byModel, r.model ? canonicalModel(r.model) : '(other)', v);
        add(billed.byProject, r.workspace_id ?? '(default)', v);
      }
    }
  }
  for (const page of await getAllPages<Page<UsageResult>>('anthropic', usageUrl, headers, doFetch)) {
    for (const bucket of page.data ?? []) {
      if (!isDay(bucket.starting_at)) continue;
      for (const r of bucket.results ?? []) {
        const uncached = r.uncached_input_tokens ?? 0;
        const cacheRead = r.cache_read_input_tokens ?? 0;
        const cacheWrite =
          (r.cache_creation?.ephemeral_5m_input_tokens ?? 0) + (r.cache_creation?.ephemeral_1h_input_tokens ?? 0);
        addUsage(billed.usageByModel, canonicalModel(r.model ?? '(other)'), {
          requests: 0,
          // tokenmeter's input is the total input, cache reads and writes included.
          inputTokens: uncached + cacheRead + cacheWrite,
          outputTokens: r.output_tokens ?? 0,
          cacheReadTokens: cacheRead,
        });
      }
    }
  }
  return billed;
}
