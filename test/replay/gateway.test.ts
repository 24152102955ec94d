/**
 * The real `@ai-sdk/gateway` client (`createGateway` from `ai`) against the replay server's AI
 * Gateway routes (gateway.ts): model ids in headers, LanguageModelV3 answers and stream parts,
 * the gateway's errors.
 */
import { createGateway, embed, generateText, streamText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FIXTURES, type Fixture, type ReportedUsage } from './fixtures.js';
import { type ReplayServer, SCENARIO_HEADER, type Scenario, startReplayServer } from './server.js';

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

const u = (f: Fixture): ReportedUsage => f.usage!;

describe('Vercel AI Gateway (ai + createGateway pointed at the replay)', () => {
  const gateway = (scenario?: Scenario) =>
    createGateway({
      apiKey: 'gw-test',
      baseURL: `${server.url}/v3/ai`,
      headers: scenario ? { [SCENARIO_HEADER]: scenario } : {},
    });

  test('generateText: the model id in ai-language-model-id, V3 usage with cache parts', async () => {
    const f = FIXTURES.gatewayLanguageModel.cache;
    const res = await generateText({ model: gateway('cache')(f.model), prompt: 'Hello' });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v3/ai/language-model');
    expect(req.headers['ai-language-model-id']).toBe(f.model);
    expect(req.headers['ai-language-model-streaming']).toBe('false');
    expect(res.text).toBe(f.text);
    expect(res.usage.inputTokens).toBe(u(f).input);
    expect(res.usage.inputTokenDetails.cacheReadTokens).toBe(u(f).cacheRead);
    expect(res.usage.inputTokenDetails.cacheWriteTokens).toBe(u(f).cacheWrite5m);
    expect(res.providerMetadata?.gateway?.generationId).toBe(f.id);
    expect(res.response.modelId).toBe(f.model);
  });

  test('streamText: SSE stream parts, reasoning in the finish usage', async () => {
    const f = FIXTURES.gatewayLanguageModel.reasoning;
    const res = streamText({ model: gateway('reasoning')(f.model), prompt: 'Hello' });
    expect(await res.text).toBe(f.text);
    expect((await res.usage).outputTokenDetails.reasoningTokens).toBe(u(f).reasoning);
    expect(server.requests[0]!.headers['ai-language-model-streaming']).toBe('true');
  });

  test('429 with retry-after: 0 is a retryable GatewayRateLimitError; embed reports tokens', async () => {
    const f = FIXTURES.gatewayLanguageModel.ok;
    const res = await generateText({ model: gateway('rate-limit-once')(f.model), prompt: 'Hello' });
    expect(res.text).toBe(f.text);
    expect(server.requests).toHaveLength(2);
    const e = FIXTURES.gatewayEmbeddingModel.ok;
    const emb = await embed({ model: gateway().embeddingModel(e.model), value: 'Hello' });
    expect(emb.embedding).toHaveLength(e.dimensions!);
    expect(emb.usage.tokens).toBe(u(e).input);
    expect(server.requests[2]!.headers['ai-model-id']).toBe(e.model);
  });
});
