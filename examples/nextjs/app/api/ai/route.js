// The Vercel ai SDK, plain and streamed, over @ai-sdk/openai (OPENAI_API_KEY, OPENAI_BASE_URL).
import { openai } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';

const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';

export async function POST(request) {
  const { prompt, stream } = await request.json();
  if (!stream) {
    const result = await generateText({ model: openai.chat(model), prompt });
    return Response.json({ text: result.text });
  }
  return streamText({ model: openai.chat(model), prompt }).toTextStreamResponse();
}
