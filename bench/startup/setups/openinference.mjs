// OpenInference (Arize): its OpenAI and Anthropic instrumentations in the usual NodeSDK.
// No ESM hook: the copy of import-in-the-middle it pins (1.7) fails to parse @anthropic-ai/sdk's
// ESM build (`SyntaxError: Unexpected token '*'`), and the hook of another copy does not serve it;
// its documented ESM route is `manuallyInstrument(module)` in the app's code. So in the ESM apps
// here it loads and starts, but patches nothing (`--check` shows it).
import { AnthropicInstrumentation } from '@arizeai/openinference-instrumentation-anthropic';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { startNodeSdk } from './nodesdk.mjs';

startNodeSdk([new OpenAIInstrumentation(), new AnthropicInstrumentation()]);
