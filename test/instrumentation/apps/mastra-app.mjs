// A Mastra agent as Mastra documents it (a model router id, the key from the environment, the
// agent registered on a Mastra instance), with no tokenmeter code: run under
// `node --import @tokenmeter/instrumentation/register`. OPENAI_BASE_URL points at the replay server.
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';

const assistant = new Agent({
  name: 'assistant',
  instructions: 'You answer geography questions in one sentence.',
  model: `openai/${process.env.OPENAI_MODEL}`,
});
const mastra = new Mastra({ agents: { assistant }, logger: false });

const agent = mastra.getAgent('assistant');
const generated = await agent.generate('What is the capital of France?');
const stream = await agent.stream('What is the capital of France?');
let streamed = '';
for await (const part of stream.textStream) streamed += part;
console.log(JSON.stringify({ generate: generated.text, stream: streamed }));
