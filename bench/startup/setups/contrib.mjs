// OpenTelemetry contrib: the official OpenAI instrumentation (contrib has none for Anthropic or Google).
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { registerEsmHook, startNodeSdk } from './nodesdk.mjs';

registerEsmHook('@opentelemetry/instrumentation-openai');
startNodeSdk([new OpenAIInstrumentation()]);
