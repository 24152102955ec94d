// The openai SDK, plain and streamed. OPENAI_API_KEY and OPENAI_BASE_URL come from the environment.
import OpenAI from 'openai';

const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';

export async function POST(request) {
  const { prompt, stream } = await request.json();
  // Made per request: at build time Next loads this module without the API key.
  const openai = new OpenAI();
  const messages = [{ role: 'user', content: prompt }];
  if (!stream) {
    const completion = await openai.chat.completions.create({ model, messages });
    return Response.json({ text: completion.choices[0].message.content });
  }
  const chunks = await openai.chat.completions.create({ model, messages, stream: true });
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream({
      async start(controller) {
        for await (const chunk of chunks) controller.enqueue(encoder.encode(chunk.choices[0]?.delta?.content ?? ''));
        controller.close();
      },
    }),
    { headers: { 'content-type': 'text/plain; charset=utf-8' } },
  );
}
