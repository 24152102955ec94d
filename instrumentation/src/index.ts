// Public surface of @tokenmeter/instrumentation.
export * as semconv from './semconv.js';
export { priceCall } from './prices/index.js';
export type { PriceOverride, PriceRequest, PriceResult, PricedCall, UnpricedCall, Usage } from './prices/index.js';
export type { CallDescription, CallGuard, InstrumentationOptions, UsageContext, UsageContextKey } from './types.js';
export { CallBlockedError } from './types.js';
export { withUsageContext, setUsageContext, getUsageContext, contextWithUsage } from './core/usage-context.js';
export { setCallGuard } from './core/guard.js';
export {
  BudgetExceededError,
  BudgetGuard,
  BudgetUnavailableError,
  installBudgetGuard,
  uninstallBudgetGuard,
} from './guard/index.js';
export type { BudgetGuardOptions, BudgetGuardStats } from './guard/index.js';
export { configure } from './core/config.js';
export { faultCounts } from './core/faults.js';
export { redact } from './core/privacy.js';
export { start, type StartOptions, type Started } from './start.js';
export {
  AnthropicInstrumentation,
  BedrockInstrumentation,
  GoogleGenAIInstrumentation,
  MastraInstrumentation,
  OpenAIInstrumentation,
  VercelAIInstrumentation,
  tokenmeterInstrumentations,
} from './instrumentations/index.js';
export { instrumentModel, instrumentAiModule } from './instrumentations/vercel-ai.js';
export { instrument } from './instrument.js';
export { recordOpenAIBatchOutput } from './instrumentations/openai-batch.js';
export type { TokenmeterInstrumentationConfig } from './instrumentations/base.js';
