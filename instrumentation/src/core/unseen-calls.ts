import diagnostics from 'node:diagnostics_channel';
import { recordFault } from './faults.js';
import { apiGlobals, otelApi } from './otel-api.js';
import { registry, warnOnce } from './registry.js';

/**
 * Never silently blind. An AI SDK that no hook reached (bundled into a Next.js route or an
 * esbuild function) still sends its HTTP requests through Node: a request to a model API path
 * made outside any call of ours is a call tokenmeter does not record. The first one is said
 * once, with the fix, then we stop listening. Watched: fetch (undici, what the openai,
 * Anthropic, Google and `ai` providers use) and `http.request`.
 */
const MODEL_API_PATH =
  /\/(chat\/completions|responses|embeddings)(\?|$)|\/v1\/messages(\?|$)|:(generateContent|streamGenerateContent|embedContent)(\?|$)|\/model\/[^/]+\/(converse|converse-stream|invoke|invoke-with-response-stream)(\?|$)/;

const UNDICI = 'undici:request:create';
const HTTP = 'http.client.request.start';
let watching = false;

/** Start watching (once per process, whichever copy of this package asks first). */
export function watchUnseenCalls(): void {
  const r = registry() as { watchingUnseen?: boolean };
  if (watching || r.watchingUnseen) return;
  watching = true;
  r.watchingUnseen = true;
  try {
    diagnostics.subscribe(UNDICI, onUndici);
    diagnostics.subscribe(HTTP, onHttp);
  } catch (err) {
    recordFault('unseen-calls.subscribe', err);
  }
}

function stop(): void {
  try {
    diagnostics.unsubscribe(UNDICI, onUndici);
    diagnostics.unsubscribe(HTTP, onHttp);
  } catch {}
}

function onUndici(message: unknown): void {
  const request = (message as { request?: { origin?: unknown; method?: string; path?: string } })?.request;
  check(request?.method, String(request?.origin ?? ''), request?.path);
}

function onHttp(message: unknown): void {
  const request = (message as { request?: { method?: string; host?: string; path?: string } })?.request;
  check(request?.method, request?.host ?? '', request?.path);
}

function check(method: string | undefined, host: string, path: string | undefined): void {
  try {
    if (method !== 'POST' || !path || !MODEL_API_PATH.test(path) || isInCallOfOurs()) return;
    // Instrumented, but with nothing to export to: said already, with its own fix; or traces are off on purpose.
    if (registry().warned.has('no-tracer-provider') || registry().tracesOff) return;
    stop();
    warnOnce('unseen-call', unseenCallMessage(`${method} ${host}${path.split('?')[0]}`));
  } catch (err) {
    recordFault('unseen-calls.check', err);
  }
}

/** Without a context manager registered (globals.ts) no context is active, and so no call of ours. */
function isInCallOfOurs(): boolean {
  if (apiGlobals()?.context === undefined) return false;
  const { CALL_KEY } = require('./call-key.js') as typeof import('./call-key.js');
  return otelApi().context.active().getValue(CALL_KEY) !== undefined;
}

/** What to do about it, for the runtime we are in. */
export function unseenCallMessage(request: string): string {
  const bundled = process.env.NEXT_RUNTIME
    ? 'Next.js bundles the AI SDKs into its server chunks unless told not to: add them (and ' +
      "'@tokenmeter/instrumentation') to serverExternalPackages in next.config, e.g. " +
      "serverExternalPackages: ['@tokenmeter/instrumentation', 'openai', 'ai'], " +
      'or wrap the client in your code: instrument(new OpenAI()), instrumentModel(model).'
    : 'The SDK was probably bundled (esbuild, webpack) or loaded before tokenmeter started: keep it external, ' +
      'start tokenmeter first (node --import @tokenmeter/instrumentation/register), or wrap the client in your ' +
      'code: instrument(new OpenAI()), instrumentModel(model).';
  return `an AI API request (${request}) was made by an SDK tokenmeter did not instrument, so it is not recorded. ${bundled} See the README's "Next.js and bundled apps" section.`;
}
