import { add, type Fetch, getAllPages } from './http.js';
import { usdToScaled } from './money.js';
import { type BilledDay, type BilledUsage, canonicalModel } from './types.js';

/**
 * OpenAI's organization Costs and Usage APIs (admin key):
 * - GET /v1/organization/costs, 1d buckets grouped by project_id and line_item; a result's
 *   `amount.value` is USD, a JSON number or a decimal string; line_item reads
 *   "<model>, <kind>" (e.g. "gpt-4o-mini-2024-07-18, input");
 * - GET /v1/organization/usage/completions grouped by model: tokens and requests.
 * Times are Unix seconds; a bucket covers [start_time, end_time).
 */
interface Page<R> {
  data?: { start_time?: number; end_time?: number; results?: R[] }[];
}
interface CostResult {
  amount?: { value?: number | string; currency?: string };
  line_item?: string | null;
  project_id?: string | null;
}
interface UsageResult {
  model?: string | null;
  input_tokens?: number;
  output_tokens?: number;
  input_cached_tokens?: number;
  num_model_requests?: number;
}

export async function fetchOpenAiDay(
  cfg: { adminKey: string; baseUrl: string },
  day: string,
  doFetch: Fetch = fetch,
): Promise<BilledDay> {
  const start = Date.parse(`${day}T00:00:00Z`) / 1000;
  const headers = { authorization: `Bearer ${cfg.adminKey}`, accept: 'application/json' };
  const window = (path: string) => {
    const u = new URL(`${cfg.baseUrl}${path}`);
    u.searchParams.set('start_time', String(start));
    u.searchParams.set('end_time', String(start + 86_400));
    u.searchParams.set('bucket_width', '1d');
    return u;
  };
  const costsUrl = window('/v1/organization/costs');
  costsUrl.searchParams.append('group_by', 'project_id');
  costsUrl.searchParams.append('group_by', 'line_item');
  costsUrl.searchParams.set('limit', '1');
  const usageUrl = window('/v1/organization/usage/completions');
  usageUrl.searchParams.append('group_by', 'model');
  usageUrl.searchParams.set('limit', '1');

  const billed: BilledDay = {
    provider: 'openai',
    day,
    hasData: false,
    total: 0n,
    byModel: new Map(),
    byProject: new Map(),
    usageByModel: new Map(),
  };
  for (const page of await getAllPages<Page<CostResult>>('openai', costsUrl, headers, doFetch)) {
    for (const bucket of page.data ?? []) {
      if (bucket.start_time !== start) continue;
      for (const r of bucket.results ?? []) {
        const currency = (r.amount?.currency ?? 'usd').toLowerCase();
        if (currency !== 'usd') throw new Error(`openai costs: currency ${currency} is not USD`);
        const v = usdToScaled(r.amount?.value, 'openai costs amount.value');
        billed.hasData = true;
        billed.total += v;
        const model = r.line_item ? canonicalModel(r.line_item.split(',')[0] ?? '') : '';
        add(billed.byModel, model || '(other)', v);
        add(billed.byProject, r.project_id ?? '(none)', v);
      }
    }
  }
  for (const page of await getAllPages<Page<UsageResult>>('openai', usageUrl, headers, doFetch)) {
    for (const bucket of page.data ?? []) {
      if (bucket.start_time !== start) continue;
      for (const r of bucket.results ?? [])
        addUsage(billed.usageByModel, canonicalModel(r.model ?? '(other)'), {
          requests: r.num_model_requests ?? 0,
          inputTokens: r.input_tokens ?? 0,
          outputTokens: r.output_tokens ?? 0,
          cacheReadTokens: r.input_cached_tokens ?? 0,
        });
    }
  }
  return billed;
}

export function addUsage(map: Map<string, BilledUsage>, model: string, u: BilledUsage): void {
  const a = map.get(model) ?? { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };
  a.requests += u.requests;
  a.inputTokens += u.inputTokens;
  a.outputTokens += u.outputTokens;
  a.cacheReadTokens += u.cacheReadTokens;
  map.set(model, a);
}
