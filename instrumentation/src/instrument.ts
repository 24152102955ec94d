import { recordFault } from './core/faults.js';
import { warnOnce } from './core/registry.js';
import { AnthropicInstrumentation } from './instrumentations/anthropic.js';
import type { TokenmeterInstrumentation } from './instrumentations/base.js';
import { BedrockInstrumentation } from './instrumentations/bedrock.js';
import { GoogleGenAIInstrumentation } from './instrumentations/google.js';
import { OpenAIInstrumentation } from './instrumentations/openai.js';
import { instrumentModel } from './instrumentations/vercel-ai.js';

/**
 * Explicit instrumentation, for code no module hook can reach: an SDK bundled into a Next.js
 * route or an esbuild/webpack function. Give it the client you created:
 *
 *   const openai = instrument(new OpenAI());            // openai 4–7 (and AzureOpenAI)
 *   const anthropic = instrument(new Anthropic());      // @anthropic-ai/sdk
 *   const google = instrument(new GoogleGenAI({ apiKey }));
 *   const bedrock = instrument(new BedrockRuntimeClient({ region }));
 *   const model = instrument(openai('gpt-4o-mini'));    // a Vercel `ai` model (same as instrumentModel)
 *
 * It returns what it was given (a model: a recording view of it), typed as given. The same
 * wrappers as the hooks are put on the client's SDK classes, so every client of that SDK copy is
 * recorded, and a client the hooks already reach is never wrapped twice (one call, one span).
 * Never throws: anything else is returned as it is, with one warning.
 */
export function instrument<T>(client: T): T {
  try {
    const c = client as any;
    if (!c || typeof c !== 'object') return client;
    if (typeof c.doGenerate === 'function' || typeof c.doStream === 'function' || typeof c.doEmbed === 'function') {
      return instrumentModel(c) as T;
    }
    const target = sdkOf(c);
    if (target) {
      target.instrumentation.apply(target.exports);
      return client;
    }
    warnOnce(
      `instrument-${c.constructor?.name}`,
      `instrument() was given a ${c.constructor?.name ?? typeof c}, which is not a client it knows ` +
        '(OpenAI, Anthropic, GoogleGenAI, BedrockRuntimeClient, or a Vercel ai model): its calls are not recorded.',
    );
  } catch (err) {
    recordFault('instrument', err);
  }
  return client;
}

const protoOf = (o: unknown) => (o && typeof o === 'object' ? Object.getPrototypeOf(o) : undefined);

/** The client's SDK, and its classes in the shape that SDK's patch table reads (instrumentations/*.ts). */
function sdkOf(c: any): { instrumentation: TokenmeterInstrumentation; exports: unknown } | undefined {
  if (typeof c.chat?.completions?.create === 'function') {
    return {
      instrumentation: explicit().openai,
      exports: {
        OpenAI: {
          Chat: { Completions: { prototype: protoOf(c.chat.completions) } },
          Responses: { prototype: protoOf(c.responses) },
          Embeddings: { prototype: protoOf(c.embeddings) },
        },
      },
    };
  }
  if (typeof c.messages?.create === 'function') {
    return {
      instrumentation: explicit().anthropic,
      exports: {
        Anthropic: {
          Messages: { prototype: protoOf(c.messages) },
          Beta: { Messages: { prototype: protoOf(c.beta?.messages) } },
        },
      },
    };
  }
  if (typeof c.models?.generateContent === 'function') {
    return { instrumentation: explicit().google, exports: { Models: { prototype: protoOf(c.models) } } };
  }
  if (typeof c.send === 'function' && c.middlewareStack && typeof c.config === 'object') {
    return { instrumentation: explicit().bedrock, exports: { BedrockRuntimeClient: { prototype: protoOf(c) } } };
  }
  return undefined;
}

let instances:
  | {
      openai: TokenmeterInstrumentation;
      anthropic: TokenmeterInstrumentation;
      google: TokenmeterInstrumentation;
      bedrock: TokenmeterInstrumentation;
    }
  | undefined;

/** Instances that only patch what they are given: no module hooks (`enabled: false`). */
function explicit() {
  instances ??= {
    openai: new OpenAIInstrumentation({ enabled: false }),
    anthropic: new AnthropicInstrumentation({ enabled: false }),
    google: new GoogleGenAIInstrumentation({ enabled: false }),
    bedrock: new BedrockInstrumentation({ enabled: false }),
  };
  return instances;
}
