import { AnthropicInstrumentation } from './anthropic.js';
import type { TokenmeterInstrumentation, TokenmeterInstrumentationConfig } from './base.js';
import { BedrockInstrumentation } from './bedrock.js';
import { GoogleGenAIInstrumentation } from './google.js';
import { MastraInstrumentation } from './mastra.js';
import { OpenAIInstrumentation } from './openai.js';
import { VercelAIInstrumentation } from './vercel-ai.js';

export {
  AnthropicInstrumentation,
  BedrockInstrumentation,
  GoogleGenAIInstrumentation,
  MastraInstrumentation,
  OpenAIInstrumentation,
  VercelAIInstrumentation,
};

export { INSTRUMENTED_MODULES } from './targets.js';

/** One of each, for `new NodeSDK({ instrumentations: tokenmeterInstrumentations() })`. */
export function tokenmeterInstrumentations(config: TokenmeterInstrumentationConfig = {}): TokenmeterInstrumentation[] {
  return [
    new OpenAIInstrumentation(config),
    new AnthropicInstrumentation(config),
    new GoogleGenAIInstrumentation(config),
    new BedrockInstrumentation(config),
    new VercelAIInstrumentation(config),
    new MastraInstrumentation(config),
  ];
}

let all: TokenmeterInstrumentation[] | undefined;
/** The instances `register` enables (created once). */
export function allInstrumentations(): TokenmeterInstrumentation[] {
  all ??= tokenmeterInstrumentations();
  return all;
}
