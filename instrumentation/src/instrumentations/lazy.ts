import { setGlobalsNow } from '../core/globals.js';
import type { TokenmeterInstrumentation } from './base.js';
import { type PackagePatcher, watchPackages } from './package-hooks.js';
import { inVersionRange } from './packages.js';
import { TARGETS, type TargetName } from './targets.js';

/**
 * What `register` watches: each SDK by its package.json name and version (targets.ts), with its
 * patch module (and through it the span, pricing and stream code) loaded only when that SDK is
 * first seen loading. A process that never imports an AI SDK loads none of them.
 * The requires are literal, so that a bundler that bundles this package follows them.
 */
const LOADERS: Record<TargetName, () => TokenmeterInstrumentation> = {
  openai: () => new (require('./openai.js') as typeof import('./openai.js')).OpenAIInstrumentation(HOOKLESS),
  anthropic: () =>
    new (require('./anthropic.js') as typeof import('./anthropic.js')).AnthropicInstrumentation(HOOKLESS),
  google: () => new (require('./google.js') as typeof import('./google.js')).GoogleGenAIInstrumentation(HOOKLESS),
  bedrock: () => new (require('./bedrock.js') as typeof import('./bedrock.js')).BedrockInstrumentation(HOOKLESS),
  vercelAi: () => new (require('./vercel-ai.js') as typeof import('./vercel-ai.js')).VercelAIInstrumentation(HOOKLESS),
  mastra: () => new (require('./mastra.js') as typeof import('./mastra.js')).MastraInstrumentation(HOOKLESS),
};

/** The package hooks (package-hooks.ts) find the module; OTel's own per-instrumentation hooks are not needed. */
const HOOKLESS = { enabled: false };

let watching = false;

/** Watch for every instrumented SDK (once). */
export function watchInstrumentedPackages(): void {
  if (watching) return;
  watching = true;
  for (const name of Object.keys(TARGETS) as TargetName[]) watchPackages(lazyPatcher(name));
}

function lazyPatcher(name: TargetName): PackagePatcher {
  const { module, versions } = TARGETS[name];
  let instance: TokenmeterInstrumentation | undefined;
  return {
    handles: (pkg) => pkg.name === module && inVersionRange(pkg.version, versions),
    patchModule(exports) {
      // The SDK's calls will need the OTel context manager (core/globals.ts): set it before its first call.
      setGlobalsNow();
      instance ??= LOADERS[name]();
      return instance.patchModule(exports);
    },
  };
}
