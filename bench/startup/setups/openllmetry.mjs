// OpenLLMetry (Traceloop): its OpenAI and Anthropic instrumentations in the usual NodeSDK. Each
// pins its own copy of import-in-the-middle and two hooks of it cannot be registered in one process
// (the second fails every load), so under ESM only the OpenAI one patches (`--check` shows it).
import { AnthropicInstrumentation } from '@traceloop/instrumentation-anthropic';
import { OpenAIInstrumentation } from '@traceloop/instrumentation-openai';
import { registerEsmHook, startNodeSdk } from './nodesdk.mjs';

registerEsmHook('@traceloop/instrumentation-openai');
startNodeSdk([new OpenAIInstrumentation(), new AnthropicInstrumentation()]);
