import { recordFault } from '../core/faults.js';
import { type MethodPatch, TokenmeterInstrumentation, type TokenmeterInstrumentationConfig } from './base.js';
import { TARGETS } from './targets.js';
import { instrumentModel } from './vercel-ai.js';

/**
 * Mastra (`@mastra/core` 0.20+): its agents call the model themselves (`model.doStream`, not
 * through `ai`'s generateText), on a model its router resolves from a config such as
 * `'openai/gpt-4o-mini'`. The router's `resolveLanguageModel` is wrapped so that the model it
 * hands to the agent records each provider request, as the Vercel `ai` hook does
 * (vercel-ai.ts). A model object given to an agent directly is recorded with `instrument(model)`.
 */
export class MastraInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('mastra', config);
  }

  protected target() {
    return TARGETS.mastra;
  }

  protected patches(): MethodPatch[] {
    return [
      {
        target: (m) => (m?.ModelRouterLanguageModel ?? m?.default?.ModelRouterLanguageModel)?.prototype,
        method: 'resolveLanguageModel',
        wrap: recordingResolvedModel,
      },
    ];
  }
}

function recordingResolvedModel(original: (...args: any[]) => any) {
  return function resolveLanguageModel(this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    if (!result || typeof result.then !== 'function') return result;
    return result.then((model: unknown) => {
      try {
        return model && typeof model === 'object' ? instrumentModel(model) : model;
      } catch (err) {
        recordFault('mastra.model', err);
        return model;
      }
    });
  };
}
