/**
 * OpenAI-compatible hosts, recognised from the client's base URL. Data with a source: each
 * host is the one the provider's own documentation gives for its OpenAI-compatible API.
 */
const HOSTS: readonly [RegExp, string][] = [
  [/(^|\.)api\.openai\.com$/, 'openai'],
  [/\.openai\.azure\.com$|\.cognitiveservices\.azure\.com$|\.services\.ai\.azure\.com$/, 'azure'],
  [/(^|\.)api\.groq\.com$/, 'groq'],
  [/(^|\.)api\.x\.ai$/, 'xai'],
  [/(^|\.)api\.deepseek\.com$/, 'deepseek'],
  [/(^|\.)api\.mistral\.ai$/, 'mistral'],
  [/(^|\.)api\.together\.(xyz|ai)$/, 'together'],
  [/(^|\.)openrouter\.ai$/, 'openrouter'],
  [/(^|\.)api\.perplexity\.ai$/, 'perplexity'],
  [/(^|\.)api\.anthropic\.com$/, 'anthropic'],
  [/(^|\.)generativelanguage\.googleapis\.com$/, 'google'],
  [/(^|\.)api\.cohere\.(ai|com)$/, 'cohere'],
];

/** Hosts whose OpenAI-compatible chat API accepts `stream_options.include_usage`. */
export const ACCEPTS_INCLUDE_USAGE: ReadonlySet<string> = new Set([
  'openai',
  'azure',
  'groq',
  'xai',
  'deepseek',
  'together',
  'openrouter',
]);

export interface Host {
  provider: string;
  address: string | undefined;
  port: number | undefined;
}

const cache = new Map<string, Host>();

/** The provider behind `baseURL`; unknown hosts (a proxy, a local server) keep the SDK's own provider. */
let lastURL: unknown;
let lastProvider = '';
let lastHost: Host | undefined;

export function hostOf(baseURL: unknown, sdkProvider: string): Host {
  // Most apps use one client: the last answer is the next one.
  if (lastHost && baseURL === lastURL && sdkProvider === lastProvider) return lastHost;
  lastHost = hostOfUncached(baseURL, sdkProvider);
  lastURL = baseURL;
  lastProvider = sdkProvider;
  return lastHost;
}

function hostOfUncached(baseURL: unknown, sdkProvider: string): Host {
  const key = `${sdkProvider}|${String(baseURL)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let host: Host = {
    provider: sdkProvider,
    address: undefined,
    port: undefined,
  };
  try {
    const url = new URL(String(baseURL));
    const name = url.hostname.toLowerCase();
    const known = HOSTS.find(([re]) => re.test(name));
    host = {
      provider: known ? known[1] : sdkProvider,
      address: name,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    };
  } catch {}
  if (cache.size > 256) cache.clear();
  cache.set(key, host);
  return host;
}
