/** The `@ai-sdk/openai` provider the Vercel `ai` tests use: pointed at the replay server, with a scenario. */
import { createOpenAI } from '@ai-sdk/openai';
import { type ReplayServer, SCENARIO_HEADER, type Scenario } from '../replay/server.js';

export function replayOpenAI(server: ReplayServer, scenario?: Scenario, fetch?: typeof globalThis.fetch) {
  return createOpenAI({
    apiKey: 'sk-test',
    baseURL: `${server.url}/v1`,
    headers: scenario ? { [SCENARIO_HEADER]: scenario } : {},
    ...(fetch ? { fetch } : {}),
  });
}
