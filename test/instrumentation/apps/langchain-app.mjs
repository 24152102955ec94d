// LangChain.js over the openai SDK, with no tokenmeter code: run under
// `node --import @tokenmeter/instrumentation/register`. invoke, stream and batch; embeddings.
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';

const configuration = { baseURL: `${process.env.REPLAY_URL}/v1` };
const chat = new ChatOpenAI({ model: process.env.OPENAI_MODEL, apiKey: 'sk-test', configuration });
const invoked = await chat.invoke('What is the capital of France?');
let streamed = '';
for await (const chunk of await chat.stream('What is the capital of France?')) streamed += chunk.content;
const batch = await chat.batch(['Hi', 'Hello']);
const embeddings = new OpenAIEmbeddings({ model: process.env.EMBEDDING_MODEL, apiKey: 'sk-test', configuration });
const vector = await embeddings.embedQuery('Hello');
console.log(
  JSON.stringify({
    invoke: invoked.content,
    stream: streamed,
    batch: batch.map((m) => m.content),
    dims: vector.length,
  }),
);
