/**
 * The packages we instrument and the versions we support: data shared by the instrumentation
 * classes (what NodeSDK is given) and by `register`'s lazy hooks (lazy.ts), which must know them
 * without loading the classes.
 */
export interface Target {
  /** The `name` in the package's own package.json. */
  module: string;
  /** Each `>=A.B.C <D`. */
  versions: string[];
}

export const TARGETS = {
  openai: { module: 'openai', versions: ['>=4.0.0 <8'] },
  anthropic: { module: '@anthropic-ai/sdk', versions: ['>=0.20.0 <3'] },
  google: { module: '@google/genai', versions: ['>=1.0.0 <3'] },
  bedrock: { module: '@aws-sdk/client-bedrock-runtime', versions: ['>=3.0.0 <4'] },
  vercelAi: { module: 'ai', versions: ['>=5.0.0 <8'] },
  mastra: { module: '@mastra/core', versions: ['>=0.20.0 <2'] },
} satisfies Record<string, Target>;

export type TargetName = keyof typeof TARGETS;

/** The packages the ESM loader hook needs to intercept (nothing else is touched). */
export const INSTRUMENTED_MODULES: string[] = Object.values(TARGETS).map((t) => t.module);
