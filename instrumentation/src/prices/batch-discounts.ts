/**
 * Batch-API discounts, per tokenmeter provider id. Data with its source: the
 * catalogue prices the standard tier only.
 */
export const BATCH_DISCOUNTS: Readonly<Record<string, { percent: number; source: string }>> = {
  openai: { percent: 50, source: 'OpenAI Batch API: "50% cost discount" (platform docs, guides/batch, read 2026-11)' },
  anthropic: {
    percent: 50,
    source: 'Anthropic Message Batches: "50% of standard API prices" (docs, batch-processing, read 2026-11)',
  },
  google: {
    percent: 50,
    source: 'Gemini Batch Mode: "50% of the standard cost" (ai.google.dev pricing, read 2026-11)',
  },
  bedrock: {
    percent: 50,
    source: 'Bedrock batch inference: 50% of on-demand for supported models (aws bedrock pricing, read 2026-11)',
  },
};
