import { modelAlias } from './model-alias.js';

/** A (provider, model name) the price rule may look up, in the order it tries them. */
export interface ModelName {
  provider: string;
  model: string;
}

/**
 * Providers that bill the model id the request named rather than the one the response reports:
 * Bedrock bills its own model ids and inference profiles (`us.anthropic.claude-…-v2:0`), while an
 * Anthropic body from Bedrock names the Anthropic model (`claude-3-5-sonnet-20241022`).
 */
const BILLED_BY_REQUEST_MODEL: ReadonlySet<string> = new Set(['bedrock']);

/**
 * Bedrock cross-region inference profiles price as their model (aws.amazon.com/bedrock/pricing:
 * "no additional routing cost"); the catalogue knows some prefixes, this covers the rest.
 */
const BEDROCK_REGION_PREFIX = /^(us|eu|apac|us-gov|global|jp|au|ca)\./;

/**
 * The names to look a call's price up by, best first: the model that ran (the response's, which
 * may be a dated snapshot) before the one asked for, except where the request's id is what is
 * billed; each name as given, then without a gateway slug (`openai/gpt-4o` through a gateway is
 * `openai`'s `gpt-4o`), Bedrock ARNs and region prefixes, then its alias when it is a dated
 * snapshot the catalogue does not know yet (`gpt-4o-mini-2099-01-01` → `gpt-4o-mini`).
 */
export function modelNames(provider: string, requestModel: string, responseModel = ''): ModelName[] {
  const out: ModelName[] = [];
  const add = (p: string, m: string) => {
    if (m && !out.some((n) => n.provider === p && n.model === m)) out.push({ provider: p, model: m });
  };
  const byRequest = BILLED_BY_REQUEST_MODEL.has(provider);
  const first = byRequest ? requestModel : responseModel;
  const second = byRequest ? responseModel : requestModel;
  for (const name of [first, second]) {
    if (!name) continue;
    add(provider, name);
    const slash = name.lastIndexOf('/');
    if (provider === 'bedrock') {
      // arn:aws:bedrock:…:foundation-model/anthropic.claude-… or …:inference-profile/us.anthropic.…
      const id = slash >= 0 ? name.slice(slash + 1) : name;
      add(provider, id);
      add(provider, id.replace(BEDROCK_REGION_PREFIX, ''));
    } else if (slash > 0) {
      // `models/gemini-2.0-flash`, or a gateway's slug naming the provider that serves the model.
      const rest = name.slice(slash + 1);
      add(provider, rest);
      const slug = name.slice(0, slash).toLowerCase();
      if (!slug.includes('/')) add(slug, rest);
    }
  }
  const named = out.length;
  for (let i = 0; i < named; i++) {
    const n = out[i] as ModelName;
    add(n.provider, modelAlias(n.model));
  }
  return out;
}

/** The name tried first: most calls are priced by it, and the rest of the list is never built. */
export function firstModelName(provider: string, requestModel: string, responseModel = ''): string {
  return BILLED_BY_REQUEST_MODEL.has(provider) ? requestModel || responseModel : responseModel || requestModel;
}
