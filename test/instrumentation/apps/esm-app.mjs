// An ESM app with no tokenmeter code: run under `node --import @tokenmeter/instrumentation/register`.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${process.env.REPLAY_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: process.env.REPLAY_URL });

const chat = await openai.chat.completions.create({
  model: process.env.OPENAI_MODEL,
  messages: [{ role: 'user', content: 'Hi' }],
});
const stream = await anthropic.messages.create({
  model: process.env.ANTHROPIC_MODEL,
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Hi' }],
  stream: true,
});
for await (const _ of stream) {
}
console.log(JSON.stringify({ chat: chat.id }));
if (process.env.WAIT_FOR_SIGNAL) {
  console.log('ready');
  setInterval(() => {}, 1000);
}
