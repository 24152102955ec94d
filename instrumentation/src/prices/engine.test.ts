import { describe, expect, it } from 'vitest';
import { formatScaled, parseUsd, priceCall } from './engine.js';
import type { PriceOverride, PriceRequest, Usage } from './types.js';

/**
 * Published price sheets, in USD per million tokens, written here by hand from the
 * providers' pricing pages (each case names its page and the date it was read), and
 * an independent exact oracle: the engine must agree to the last of 12 decimals.
 */
interface Sheet {
  input: string;
  output: string;
  cacheRead?: string;
  /** 5-minute cache write (Anthropic), or the only cache-write rate. */
  cacheWrite?: string;
  cacheWrite1h?: string;
  /** Audio input and output tokens (parts of input and output). */
  audioIn?: string;
  audioOut?: string;
  /** Long-context tier: every token priced at these rates once input exceeds `above`. */
  tier?: { above: number; input: string; output: string; cacheRead?: string };
}

const OPENAI = 'openai.com/api/pricing (read 2026-11-20)';
const ANTHROPIC = 'docs.anthropic.com/en/docs/about-claude/pricing (read 2026-11-20)';
const GOOGLE = 'ai.google.dev/gemini-api/docs/pricing (read 2026-11-20)';
const GROQ = 'groq.com/pricing (read 2026-11-20)';
const MISTRAL = 'mistral.ai/pricing#api-pricing (read 2026-11-20)';

const S = {
  gpt4o: { input: '2.50', output: '10.00', cacheRead: '1.25' },
  gpt4oMini: { input: '0.15', output: '0.60', cacheRead: '0.075' },
  gpt41: { input: '2.00', output: '8.00', cacheRead: '0.50' },
  gpt41Mini: { input: '0.40', output: '1.60', cacheRead: '0.10' },
  gpt41Nano: { input: '0.10', output: '0.40', cacheRead: '0.025' },
  o3: { input: '2.00', output: '8.00', cacheRead: '0.50' },
  o4Mini: { input: '1.10', output: '4.40', cacheRead: '0.275' },
  o1: { input: '15.00', output: '60.00', cacheRead: '7.50' },
  gpt5: { input: '1.25', output: '10.00', cacheRead: '0.125' },
  gpt5Mini: { input: '0.25', output: '2.00', cacheRead: '0.025' },
  gpt5Nano: { input: '0.05', output: '0.40', cacheRead: '0.005' },
  emb3Small: { input: '0.02', output: '0' },
  emb3Large: { input: '0.13', output: '0' },
  sonnet4: { input: '3', output: '15', cacheRead: '0.30', cacheWrite: '3.75', cacheWrite1h: '6' },
  opus41: { input: '15', output: '75', cacheRead: '1.50', cacheWrite: '18.75', cacheWrite1h: '30' },
  haiku35: { input: '0.80', output: '4', cacheRead: '0.08', cacheWrite: '1', cacheWrite1h: '1.6' },
  haiku3: { input: '0.25', output: '1.25', cacheRead: '0.03', cacheWrite: '0.30' },
  gemini25Pro: {
    input: '1.25',
    output: '10.00',
    cacheRead: '0.125',
    tier: { above: 200_000, input: '2.50', output: '15.00', cacheRead: '0.25' },
  },
  gemini20Flash: { input: '0.10', output: '0.40', cacheRead: '0.025' },
  llama33: { input: '0.59', output: '0.79' },
  mistralLarge: { input: '2', output: '6' },
  gptAudio: { input: '2.50', output: '10.00', audioIn: '32.00', audioOut: '64.00' },
  gemini20FlashAudio: { input: '0.10', output: '0.40', cacheRead: '0.025', audioIn: '0.70' },
} satisfies Record<string, Sheet>;

interface Case {
  name: string;
  provider: string;
  model: string;
  usage: Usage;
  sheet: Sheet;
  source: string;
}

const u = (inputTokens: number, outputTokens: number, extra: Partial<Usage> = {}): Usage => ({
  inputTokens,
  outputTokens,
  ...extra,
});

const CASES: Case[] = [
  // OpenAI: cached input is part of input_tokens (prompt_tokens_details.cached_tokens).
  { name: 'gpt-4o plain', provider: 'openai', model: 'gpt-4o', usage: u(1000, 500), sheet: S.gpt4o, source: OPENAI },
  {
    name: 'gpt-4o dated alias',
    provider: 'openai',
    model: 'gpt-4o-2024-08-06',
    usage: u(2048, 17),
    sheet: S.gpt4o,
    source: OPENAI,
  },
  {
    name: 'gpt-4o cache read',
    provider: 'openai',
    model: 'gpt-4o',
    usage: u(10_000, 300, { cacheReadTokens: 8192 }),
    sheet: S.gpt4o,
    source: OPENAI,
  },
  {
    name: 'gpt-4o-mini plain',
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: u(1234, 567),
    sheet: S.gpt4oMini,
    source: OPENAI,
  },
  {
    name: 'gpt-4o-mini cache read',
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: u(5000, 100, { cacheReadTokens: 4096 }),
    sheet: S.gpt4oMini,
    source: OPENAI,
  },
  {
    name: 'gpt-4o-mini one token',
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: u(1, 1),
    sheet: S.gpt4oMini,
    source: OPENAI,
  },
  {
    name: 'gpt-4.1',
    provider: 'openai',
    model: 'gpt-4.1',
    usage: u(30_000, 2_000, { cacheReadTokens: 20_000 }),
    sheet: S.gpt41,
    source: OPENAI,
  },
  {
    name: 'gpt-4.1-mini',
    provider: 'openai',
    model: 'gpt-4.1-mini',
    usage: u(7777, 333),
    sheet: S.gpt41Mini,
    source: OPENAI,
  },
  {
    name: 'gpt-4.1-nano',
    provider: 'openai',
    model: 'gpt-4.1-nano',
    usage: u(999_999, 1),
    sheet: S.gpt41Nano,
    source: OPENAI,
  },
  {
    name: 'o3 with reasoning',
    provider: 'openai',
    model: 'o3',
    usage: u(2000, 5000, { reasoningTokens: 4200 }),
    sheet: S.o3,
    source: OPENAI,
  },
  {
    name: 'o4-mini with reasoning and cache',
    provider: 'openai',
    model: 'o4-mini',
    usage: u(12_000, 3000, { reasoningTokens: 2500, cacheReadTokens: 6000 }),
    sheet: S.o4Mini,
    source: OPENAI,
  },
  {
    name: 'o1',
    provider: 'openai',
    model: 'o1',
    usage: u(500, 8000, { reasoningTokens: 7000 }),
    sheet: S.o1,
    source: OPENAI,
  },
  {
    name: 'gpt-5',
    provider: 'openai',
    model: 'gpt-5',
    usage: u(40_000, 1500, { cacheReadTokens: 32_000, reasoningTokens: 1024 }),
    sheet: S.gpt5,
    source: OPENAI,
  },
  {
    name: 'gpt-5-mini',
    provider: 'openai',
    model: 'gpt-5-mini',
    usage: u(3000, 800),
    sheet: S.gpt5Mini,
    source: OPENAI,
  },
  {
    name: 'gpt-5-nano',
    provider: 'openai',
    model: 'gpt-5-nano',
    usage: u(3000, 800, { cacheReadTokens: 1024 }),
    sheet: S.gpt5Nano,
    source: OPENAI,
  },
  {
    name: 'text-embedding-3-small',
    provider: 'openai',
    model: 'text-embedding-3-small',
    usage: u(8191, 0),
    sheet: S.emb3Small,
    source: OPENAI,
  },
  {
    name: 'text-embedding-3-large',
    provider: 'openai',
    model: 'text-embedding-3-large',
    usage: u(123_456, 0),
    sheet: S.emb3Large,
    source: OPENAI,
  },
  // Anthropic: tokenmeter's inputTokens = input_tokens + cache_read + cache_creation.
  {
    name: 'claude-sonnet-4 plain',
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    usage: u(1500, 400),
    sheet: S.sonnet4,
    source: ANTHROPIC,
  },
  {
    name: 'claude-sonnet-4 cache read',
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    usage: u(50_000, 400, { cacheReadTokens: 48_000 }),
    sheet: S.sonnet4,
    source: ANTHROPIC,
  },
  {
    name: 'claude-sonnet-4 5m cache write',
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    usage: u(20_000, 100, { cacheWriteTokens: 19_000 }),
    sheet: S.sonnet4,
    source: ANTHROPIC,
  },
  {
    name: 'claude-sonnet-4 1h cache write',
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    usage: u(20_000, 100, { cacheWriteTokens: 19_000, cacheWrite1hTokens: 19_000 }),
    sheet: S.sonnet4,
    source: ANTHROPIC,
  },
  {
    name: 'claude-sonnet-4 mixed 5m and 1h writes and a read',
    provider: 'anthropic',
    model: 'claude-sonnet-4-0',
    usage: u(40_000, 900, { cacheReadTokens: 10_000, cacheWriteTokens: 25_000, cacheWrite1hTokens: 5_000 }),
    sheet: S.sonnet4,
    source: ANTHROPIC,
  },
  {
    name: 'claude-opus-4-1',
    provider: 'anthropic',
    model: 'claude-opus-4-1-20250805',
    usage: u(3000, 1200),
    sheet: S.opus41,
    source: ANTHROPIC,
  },
  {
    name: 'claude-opus-4-1 thinking and cache',
    provider: 'anthropic',
    model: 'claude-opus-4-1',
    usage: u(60_000, 9000, { reasoningTokens: 6000, cacheReadTokens: 50_000, cacheWriteTokens: 5_000 }),
    sheet: S.opus41,
    source: ANTHROPIC,
  },
  {
    name: 'claude-3-5-haiku',
    provider: 'anthropic',
    model: 'claude-3-5-haiku-20241022',
    usage: u(4000, 250),
    sheet: S.haiku35,
    source: ANTHROPIC,
  },
  {
    name: 'claude-3-5-haiku cache write 1h',
    provider: 'anthropic',
    model: 'claude-3-5-haiku-20241022',
    usage: u(4000, 250, { cacheWriteTokens: 3000, cacheWrite1hTokens: 3000 }),
    sheet: S.haiku35,
    source: ANTHROPIC,
  },
  {
    name: 'claude-3-haiku',
    provider: 'anthropic',
    model: 'claude-3-haiku-20240307',
    usage: u(10_000, 1000, { cacheReadTokens: 2000, cacheWriteTokens: 3000 }),
    sheet: S.haiku3,
    source: ANTHROPIC,
  },
  // Google: long-context tier above 200k prompt tokens prices the whole request higher.
  {
    name: 'gemini-2.5-pro under the tier',
    provider: 'google',
    model: 'gemini-2.5-pro',
    usage: u(100_000, 2000),
    sheet: S.gemini25Pro,
    source: GOOGLE,
  },
  {
    name: 'gemini-2.5-pro at the tier boundary',
    provider: 'google',
    model: 'gemini-2.5-pro',
    usage: u(200_000, 2000),
    sheet: S.gemini25Pro,
    source: GOOGLE,
  },
  {
    name: 'gemini-2.5-pro above the tier',
    provider: 'google',
    model: 'gemini-2.5-pro',
    usage: u(250_000, 3000),
    sheet: S.gemini25Pro,
    source: GOOGLE,
  },
  {
    name: 'gemini-2.5-pro above the tier with cache',
    provider: 'google',
    model: 'gemini-2.5-pro',
    usage: u(300_000, 1000, { cacheReadTokens: 150_000 }),
    sheet: S.gemini25Pro,
    source: GOOGLE,
  },
  {
    name: 'gemini-2.5-pro thinking',
    provider: 'google',
    model: 'gemini-2.5-pro',
    usage: u(12_000, 7000, { reasoningTokens: 6000 }),
    sheet: S.gemini25Pro,
    source: GOOGLE,
  },
  {
    name: 'gemini-2.0-flash',
    provider: 'google',
    model: 'gemini-2.0-flash',
    usage: u(80_000, 4000),
    sheet: S.gemini20Flash,
    source: GOOGLE,
  },
  {
    name: 'gemini-2.0-flash cache',
    provider: 'google',
    model: 'gemini-2.0-flash',
    usage: u(80_000, 4000, { cacheReadTokens: 60_000 }),
    sheet: S.gemini20Flash,
    source: GOOGLE,
  },
  // Audio tokens are parts of input and output, priced at their own rates.
  {
    name: 'gpt-audio with audio in and out',
    provider: 'openai',
    model: 'gpt-audio',
    usage: u(3000, 2000, { inputAudioTokens: 2500, outputAudioTokens: 1800 }),
    sheet: S.gptAudio,
    source: OPENAI,
  },
  {
    name: 'gemini-2.0-flash audio input',
    provider: 'google',
    model: 'gemini-2.0-flash',
    usage: u(50_000, 500, { inputAudioTokens: 40_000 }),
    sheet: S.gemini20FlashAudio,
    source: GOOGLE,
  },
  // OpenAI-compatible hosts.
  {
    name: 'groq llama-3.3-70b',
    provider: 'groq',
    model: 'llama-3.3-70b-versatile',
    usage: u(6000, 1500),
    sheet: S.llama33,
    source: GROQ,
  },
  {
    name: 'mistral-large',
    provider: 'mistral',
    model: 'mistral-large-latest',
    usage: u(10_000, 2_000),
    sheet: S.mistralLarge,
    source: MISTRAL,
  },
  {
    name: 'bedrock claude sonnet 4',
    provider: 'bedrock',
    model: 'anthropic.claude-sonnet-4-20250514-v1:0',
    usage: u(2500, 600),
    sheet: S.sonnet4,
    source: `aws.amazon.com/bedrock/pricing (read 2026-11-20), same rates as ${ANTHROPIC}`,
  },
  ...['us', 'eu', 'apac'].map((region) => ({
    name: `bedrock ${region}. inference profile prices as its model`,
    provider: 'bedrock',
    model: `${region}.anthropic.claude-sonnet-4-20250514-v1:0`,
    usage: u(2500, 600, { cacheReadTokens: 500 }),
    sheet: S.sonnet4,
    source: `aws.amazon.com/bedrock/pricing (read 2026-11-20): cross-region inference at the model's price`,
  })),
];

/** Exact oracle: tokens × (USD per million) with the 12-decimal integer scale. */
function expectedUsd(c: Case): string {
  const { usage, sheet } = c;
  const read = BigInt(usage.cacheReadTokens ?? 0);
  const write = BigInt(usage.cacheWriteTokens ?? 0);
  const write1h = BigInt(usage.cacheWrite1hTokens ?? 0);
  const audioIn = BigInt(usage.inputAudioTokens ?? 0);
  const audioOut = BigInt(usage.outputAudioTokens ?? 0);
  const uncached = BigInt(usage.inputTokens) - read - write - audioIn;
  const tier = sheet.tier && usage.inputTokens > sheet.tier.above ? sheet.tier : undefined;
  const rate = (perMillion: string | undefined) => (parseUsd(perMillion ?? '0') * 1n) / 1_000_000n;
  const inRate = rate(tier?.input ?? sheet.input);
  const total =
    uncached * inRate +
    read * rate(tier?.cacheRead ?? sheet.cacheRead ?? sheet.input) +
    (write - write1h) * rate(sheet.cacheWrite ?? sheet.input) +
    write1h * rate(sheet.cacheWrite1h ?? sheet.cacheWrite ?? sheet.input) +
    audioIn * rate(sheet.audioIn ?? sheet.input) +
    audioOut * rate(sheet.audioOut ?? sheet.output) +
    (BigInt(usage.outputTokens) - audioOut) * rate(tier?.output ?? sheet.output);
  expect(total % 1n).toBe(0n);
  return formatScaled(total);
}

describe('priceCall against published price sheets', () => {
  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of CASES) {
    it(`${c.name} (${c.source})`, () => {
      const result = priceCall({
        provider: c.provider,
        model: c.model,
        usage: c.usage,
        timestamp: new Date('2026-11-20T12:00:00Z'),
      });
      expect(result.priced, result.priced ? '' : result.detail).toBe(true);
      if (!result.priced) return;
      expect(result.costUsd).toBe(expectedUsd(c));
      expect(result.costNanoUsd).toBe((parseUsd(result.costUsd) + 500n) / 1000n);
      expect(result.priceId).toMatch(/^catalogue:/);
      expect(result.priceVersion).toMatch(/^genai-prices@\d/);
    });
  }
});

describe('priceCall edge cases', () => {
  const at = new Date('2026-11-20T12:00:00Z');

  it('gives an unknown model no cost and an unpriced flag, never $0', () => {
    const r = priceCall({ provider: 'openai', model: 'my-private-finetune-xyz', usage: u(1000, 100), timestamp: at });
    expect(r).toEqual({
      priced: false,
      reason: 'unknown_model',
      detail: 'no price for openai/my-private-finetune-xyz',
    });
  });

  it('refuses negative, fractional or inconsistent usage instead of pricing it', () => {
    expect(priceCall({ provider: 'openai', model: 'gpt-4o', usage: u(-1, 5), timestamp: at })).toMatchObject({
      priced: false,
      reason: 'invalid_usage',
    });
    expect(priceCall({ provider: 'openai', model: 'gpt-4o', usage: u(1.5, 5), timestamp: at })).toMatchObject({
      priced: false,
      reason: 'invalid_usage',
    });
    expect(
      priceCall({ provider: 'openai', model: 'gpt-4o', usage: u(10, 5, { cacheReadTokens: 11 }), timestamp: at }),
    ).toMatchObject({
      priced: false,
      detail: expect.stringMatching(/exceed inputTokens/),
    });
  });

  it('applies an override only from its effective time, and names it', () => {
    const override: PriceOverride = {
      id: 'acme-ft-1',
      provider: 'openai',
      model: 'ft:gpt-4o-mini:acme::abc',
      effectiveFrom: '2026-11-20T12:00:00Z',
      prices: { input_mtok: 0.3, output_mtok: 1.2 },
    };
    const req = { provider: 'openai', model: 'ft:gpt-4o-mini:acme::abc', usage: u(1_000_000, 1_000_000) };
    expect(priceCall({ ...req, timestamp: new Date('2026-11-20T11:59:59Z') }, [override]).priced).toBe(false);
    expect(priceCall({ ...req, timestamp: at }, [override])).toMatchObject({
      priced: true,
      costUsd: '1.5',
      priceId: 'override:acme-ft-1',
      priceVersion: '2026-11-20T12:00:00Z',
    });
  });

  it('lets a negotiated override replace a catalogue price, the latest effective one winning', () => {
    const base = { id: 'neg', provider: 'openai', model: 'gpt-4o', prices: { input_mtok: 2, output_mtok: 8 } };
    const overrides: PriceOverride[] = [
      { ...base, id: 'neg-1', effectiveFrom: '2026-01-01T00:00:00Z' },
      { ...base, id: 'neg-2', effectiveFrom: '2026-06-01T00:00:00Z', prices: { input_mtok: 1, output_mtok: 4 } },
    ];
    const r = priceCall({ provider: 'openai', model: 'GPT-4o', usage: u(1_000_000, 0), timestamp: at }, overrides);
    expect(r).toMatchObject({ priced: true, costUsd: '1', priceId: 'override:neg-2' });
  });

  it('applies an override for an alias to its dated snapshots, never to another model; one for the snapshot wins', () => {
    const alias: PriceOverride = {
      id: 'neg-alias',
      provider: 'openai',
      model: 'gpt-4o',
      effectiveFrom: '2026-01-01T00:00:00Z',
      prices: { input_mtok: 1, output_mtok: 4 },
    };
    const req = (model: string) => ({ provider: 'openai', model, usage: u(1_000_000, 1_000_000), timestamp: at });
    expect(priceCall(req('gpt-4o-2024-08-06'), [alias])).toMatchObject({
      priced: true,
      costUsd: '5',
      priceId: 'override:neg-alias',
    });
    // gpt-4o-mini is another model: the catalogue's price, not the override.
    const mini = priceCall(req('gpt-4o-mini'), [alias]);
    expect(mini).toMatchObject({ priced: true, priceId: expect.stringMatching(/^catalogue:/) });
    const snapshot: PriceOverride = {
      ...alias,
      id: 'neg-snap',
      model: 'gpt-4o-2024-08-06',
      prices: { input_mtok: 2, output_mtok: 2 },
    };
    expect(priceCall(req('gpt-4o-2024-08-06'), [snapshot, alias])).toMatchObject({
      costUsd: '4',
      priceId: 'override:neg-snap',
    });
    expect(priceCall(req('gpt-4o-2024-11-20'), [snapshot, alias])).toMatchObject({
      costUsd: '5',
      priceId: 'override:neg-alias',
    });
  });

  it('picks the price in force at the call time for prices that change over time', () => {
    // OpenAI cut o3 from $10/$40 to $2/$8 per million on 2025-06-10 (openai.com/index/o3-pro, read 2026-11-20).
    const req = { provider: 'openai', model: 'o3', usage: u(1_000_000, 1_000_000) };
    const before = priceCall({ ...req, timestamp: new Date('2025-06-09T23:59:59Z') });
    const after = priceCall({ ...req, timestamp: new Date('2025-06-10T00:00:00Z') });
    expect(before).toMatchObject({ priced: true, costUsd: '50' });
    expect(after).toMatchObject({ priced: true, costUsd: '10', priceVersion: expect.stringMatching(/@2025-06-10$/) });
  });
});

describe('priceCall: the one rule (model choice, batch, tenants, defaults, savings)', () => {
  const at = new Date('2026-11-20T12:00:00Z');
  const req = (over: Partial<PriceRequest> = {}): PriceRequest => ({
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: u(1_000_000, 1_000_000),
    timestamp: at,
    ...over,
  });
  const catalogueOf = (over: Partial<PriceRequest>) => {
    const r = priceCall(req(over));
    return r.priced ? [r.costUsd, r.priceId] : r.reason;
  };

  it('prices the model the response names, falling back to the request and to the alias', () => {
    // gpt-4o-mini: $0.15 + $0.60 per 1M; gpt-4o: $2.50 + $10 (openai.com/api/pricing, read 2026-11-20).
    expect(catalogueOf({ model: 'gpt-4o', responseModel: 'gpt-4o-mini-2024-07-18' })).toEqual([
      '0.75',
      'catalogue:openai/gpt-4o-mini',
    ]);
    expect(catalogueOf({ model: 'gpt-4o-mini', responseModel: 'gpt-4o-mini-2099-01-01' })[0]).toBe('0.75');
    expect(catalogueOf({ model: 'gpt-4o-mini-2099-01-01' })[0]).toBe('0.75');
    expect(catalogueOf({ model: 'gpt-4o', responseModel: 'no-such-model' })[0]).toBe('12.5');
  });

  it('prices a gateway slug as the provider it names, and Bedrock by the id it bills', () => {
    expect(catalogueOf({ provider: 'vercel', model: 'openai/gpt-4o-mini' })[0]).toBe('0.75');
    expect(catalogueOf({ model: 'openai/gpt-4o-mini' })[0]).toBe('0.75');
    // An Anthropic body on Bedrock names the Anthropic model; Bedrock bills the request's id.
    const bedrock = {
      provider: 'bedrock',
      model: 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.meta.llama3-2-11b-instruct-v1:0',
      responseModel: 'something-else',
    };
    // Llama 3.2 11B on Bedrock: $0.16 per 1M input and output (aws.amazon.com/bedrock/pricing, read 2026-11-20).
    expect(catalogueOf(bedrock)[0]).toBe('0.32');
  });

  it('prices a batch call at the catalogue batch entry, and leaves a model without one unpriced', () => {
    // OpenRouter's batch route for GPT-6 Luna: half its $0.10/$0.50 per 1M below 272k input (the
    // catalogue's own entry); 100k in and out: 0.005 + 0.025.
    const luna = { provider: 'openrouter', model: 'openai/gpt-6-luna', usage: u(100_000, 100_000) };
    expect(catalogueOf({ ...luna, batch: true })).toEqual(['0.03', 'catalogue:openrouter/openai/gpt-6-luna:batch']);
    expect(catalogueOf(luna)[0]).toBe('0.06');
    // The catalogue has no OpenAI-direct batch prices: unpriced, never the standard price or $0.
    expect(catalogueOf({ batch: true })).toBe('no_batch_price');
    const batchOverride: PriceOverride = {
      id: 'mini-batch',
      provider: 'openai',
      model: 'gpt-4o-mini:batch',
      effectiveFrom: '2026-01-01T00:00:00Z',
      prices: { input_mtok: 0.075, output_mtok: 0.3 },
    };
    expect(priceCall(req({ batch: true, responseModel: 'gpt-4o-mini-2024-07-18' }), [batchOverride])).toMatchObject({
      priced: true,
      costUsd: '0.375',
      priceId: 'override:mini-batch',
      source: 'override',
    });
    // A batch override never prices the same model's standard calls.
    expect(priceCall(req(), [batchOverride])).toMatchObject({ priceId: 'catalogue:openai/gpt-4o-mini' });
  });

  it("applies a tenant's override before the global one, only to that tenant", () => {
    const base = { provider: 'openai', model: 'gpt-4o-mini', effectiveFrom: '2026-01-01T00:00:00Z' };
    const overrides: PriceOverride[] = [
      { ...base, id: 'global', prices: { input_mtok: 0.1, output_mtok: 0.5 } },
      { ...base, id: 'acme', tenant: 'acme', prices: { input_mtok: 0.05, output_mtok: 0.25 } },
      { ...base, id: 'later', tenant: 'acme', effectiveFrom: '2026-12-01T00:00:00Z', prices: { input_mtok: 9 } },
    ];
    expect(priceCall(req({ tenant: 'acme' }), overrides)).toMatchObject({ costUsd: '0.3', priceId: 'override:acme' });
    expect(priceCall(req({ tenant: 'globex' }), overrides)).toMatchObject({
      costUsd: '0.6',
      priceId: 'override:global',
    });
    expect(priceCall(req(), overrides)).toMatchObject({ costUsd: '0.6', priceId: 'override:global' });
  });

  it('prices a model no catalogue knows by a default price, marked as such; never a known model', () => {
    const defaults: PriceOverride[] = [
      {
        id: 'd-acme',
        provider: '*',
        model: '*',
        tenant: 'acme',
        effectiveFrom: '2026-01-01',
        prices: { input_mtok: 1, output_mtok: 2 },
      },
    ];
    expect(priceCall(req({ model: 'acme-7b', tenant: 'acme' }), defaults)).toMatchObject({
      priced: true,
      costUsd: '3',
      source: 'default',
      priceId: 'override:d-acme',
    });
    expect(priceCall(req({ model: 'acme-7b', tenant: 'globex' }), defaults)).toMatchObject({ priced: false });
    expect(priceCall(req({ tenant: 'acme' }), defaults)).toMatchObject({ source: 'catalogue', costUsd: '0.75' });
    // A known model without a batch price is not "unknown": no default for it.
    expect(priceCall(req({ tenant: 'acme', batch: true }), defaults)).toMatchObject({ reason: 'no_batch_price' });
  });

  it('never prices by tokens a model the catalogue prices otherwise ($0 would be wrong)', () => {
    // whisper-1 is priced per minute of audio, not per token.
    expect(catalogueOf({ model: 'whisper-1', usage: u(1000, 50) })).toBe('not_per_token');
  });

  it('prices items by their own rates, and never a call whose items its price has no rate for', () => {
    // whisper-1: $0.006 a minute (the catalogue's audio_hours 0.36): 150 s = $0.015.
    expect(catalogueOf({ model: 'whisper-1', usage: u(0, 0, { audioSeconds: 150 }) })).toEqual([
      '0.015',
      'catalogue:openai/whisper-1',
    ]);
    // Characters of speech on a model priced per token only: tokens alone would understate it.
    expect(catalogueOf({ usage: u(0, 0, { inputCharacters: 44 }) })).toBe('no_item_price');
    const perChar: PriceOverride = {
      id: 'tts',
      provider: 'openai',
      model: 'tts-1-hd',
      effectiveFrom: '2023-11-06T00:00:00Z',
      prices: { input_mchars: 30 },
    };
    // tts-1-hd: $30 per 1M characters: 1,000 characters = $0.03.
    expect(priceCall(req({ model: 'tts-1-hd', usage: u(0, 0, { inputCharacters: 1000 }) }), [perChar])).toMatchObject({
      costUsd: '0.03',
      priceId: 'override:tts',
    });
    // A default price per token only does not price characters either.
    const byToken: PriceOverride = { ...perChar, id: 'd', model: '*', prices: { input_mtok: 1 } };
    expect(priceCall(req({ model: 'tts-2', usage: u(0, 0, { inputCharacters: 1000 }) }), [byToken])).toMatchObject({
      priced: false,
    });
  });

  it('states what cache reads saved, with the same price', () => {
    // 1M input of which 400k cached: 600k × 0.15 + 400k × 0.075 = 0.12; uncached 0.15 → saved 0.03.
    const r = priceCall(req({ usage: u(1_000_000, 0, { cacheReadTokens: 400_000 }) }));
    expect(r).toMatchObject({ priced: true, costUsd: '0.12', cacheSavingsUsd: '0.03' });
    expect(priceCall(req({ usage: u(1_000_000, 0) }))).toMatchObject({ cacheSavingsUsd: '0' });
  });
});
