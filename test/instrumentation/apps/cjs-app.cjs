// A CommonJS app with no tokenmeter code: run under `node -r @tokenmeter/instrumentation/register`.
const OpenAI = require('openai');
const { BedrockRuntimeClient, ConverseCommand } = require('@aws-sdk/client-bedrock-runtime');

async function main() {
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${process.env.REPLAY_URL}/v1` });
  const stream = await openai.chat.completions.create({
    model: process.env.OPENAI_MODEL,
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  const bedrock = new BedrockRuntimeClient({
    endpoint: process.env.REPLAY_H2_URL,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
  const res = await bedrock.send(
    new ConverseCommand({
      modelId: process.env.BEDROCK_MODEL,
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
    }),
  );
  bedrock.destroy();
  console.log(JSON.stringify({ text, stop: res.stopReason }));
}
main();
