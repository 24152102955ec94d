import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * TEST CODE: a local stand-in for the providers' billing APIs. It replays the documented
 * response shapes (from OpenAI's OpenAPI spec and Anthropic's Admin API reference), not
 * recorded bodies:
 * - OpenAI GET /v1/organization/costs: {object:'page', data:[{object:'bucket', start_time,
 *   end_time, results:[{object:'organization.costs.result', amount:{value, currency:'usd'},
 *   line_item, project_id}]}], has_more, next_page}; value a number or a string;
 * - OpenAI GET /v1/organization/usage/completions: results of
 *   'organization.usage.completions.result' with tokens, num_model_requests, model;
 * - Anthropic GET /v1/organizations/cost_report: {data:[{starting_at, ending_at,
 *   results:[{amount:'<cents as decimal string>', currency:'USD', cost_type, model,
 *   workspace_id, description, token_type, service_tier, context_window}]}], has_more, next_page};
 * - Anthropic GET /v1/organizations/usage_report/messages: results with
 *   uncached_input_tokens, cache_read_input_tokens, cache_creation{…}, output_tokens, model.
 * Results are served `pageSize` at a time so that every client must follow next_page.
 */
export interface OpenAiCostLine {
  usd: number | string;
  lineItem: string;
  projectId: string | null;
}
export interface AnthropicCostLine {
  cents: string;
  model: string | null;
  workspaceId: string | null;
  costType?: string;
}

export class FakeBilling {
  readonly openaiCosts = new Map<string, OpenAiCostLine[]>();
  readonly openaiUsage = new Map<string, Record<string, unknown>[]>();
  readonly anthropicCosts = new Map<string, AnthropicCostLine[]>();
  readonly anthropicUsage = new Map<string, Record<string, unknown>[]>();
  /** Providers answering 503 (an outage). */
  readonly down = new Set<'openai' | 'anthropic'>();
  /** The status a provider that is down answers with. */
  downStatus = 503;
  readonly requests: { path: string; query: URLSearchParams; headers: IncomingMessage['headers'] }[] = [];
  url = '';
  private server: Server | undefined;

  constructor(private readonly pageSize = 2) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      this.requests.push({ path: u.pathname, query: u.searchParams, headers: req.headers });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const provider = u.pathname.startsWith('/v1/organization/') ? 'openai' : 'anthropic';
      if (this.down.has(provider)) {
        send(this.downStatus, { error: { type: 'api_error', message: 'Service unavailable' } });
        return;
      }
      if (provider === 'openai' && req.headers.authorization !== 'Bearer sk-admin-openai') {
        send(401, { error: { message: 'Invalid admin key', type: 'invalid_request_error' } });
        return;
      }
      if (
        provider === 'anthropic' &&
        (req.headers['x-api-key'] !== 'sk-ant-admin' || !req.headers['anthropic-version'])
      ) {
        send(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
        return;
      }
      const page = Number((u.searchParams.get('page') ?? '0').replace(/^page_/, ''));
      if (u.pathname === '/v1/organization/costs' || u.pathname === '/v1/organization/usage/completions') {
        const start = Number(u.searchParams.get('start_time'));
        const day = new Date(start * 1000).toISOString().slice(0, 10);
        const all =
          u.pathname === '/v1/organization/costs'
            ? (this.openaiCosts.get(day) ?? []).map((l) => ({
                object: 'organization.costs.result',
                amount: { value: l.usd, currency: 'usd' },
                line_item: l.lineItem,
                project_id: l.projectId,
              }))
            : (this.openaiUsage.get(day) ?? []).map((r) => ({ object: 'organization.usage.completions.result', ...r }));
        const slice = all.slice(page * this.pageSize, (page + 1) * this.pageSize);
        const more = (page + 1) * this.pageSize < all.length;
        send(200, {
          object: 'page',
          data: [{ object: 'bucket', start_time: start, end_time: start + 86_400, results: slice }],
          has_more: more,
          next_page: more ? String(page + 1) : null,
        });
        return;
      }
      if (u.pathname === '/v1/organizations/cost_report' || u.pathname === '/v1/organizations/usage_report/messages') {
        const startingAt = u.searchParams.get('starting_at') ?? '';
        const day = startingAt.slice(0, 10);
        const all =
          u.pathname === '/v1/organizations/cost_report'
            ? (this.anthropicCosts.get(day) ?? []).map((l) => ({
                amount: l.cents,
                currency: 'USD',
                cost_type: l.costType ?? 'tokens',
                model: l.model,
                workspace_id: l.workspaceId,
                description: l.model ? `${l.model} usage` : 'Web search',
                token_type: l.model ? 'output_tokens' : null,
                service_tier: l.model ? 'standard' : null,
                context_window: l.model ? '0-200k' : null,
              }))
            : (this.anthropicUsage.get(day) ?? []);
        const slice = all.slice(page * this.pageSize, (page + 1) * this.pageSize);
        const more = (page + 1) * this.pageSize < all.length;
        const end = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z');
        send(200, {
          data: [{ starting_at: `${day}T00:00:00Z`, ending_at: end, results: slice }],
          has_more: more,
          next_page: more ? `page_${page + 1}` : null,
        });
        return;
      }
      send(404, { error: { message: `no route ${u.pathname}` } });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
