// Prints what this process loaded, for startup-loads.test.ts: every CommonJS file (tokenmeter's
// dist and its dependencies load through require) and every ESM URL the recording hook saw
// (LOADED_URLS_FILE, written by record-loads.mjs). IMPORT names SDKs to import; CALL=openai
// makes one chat call.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sdks = (process.env.IMPORT ?? '').split(',').filter(Boolean);
const loaded = {};
for (const name of sdks) loaded[name] = await import(name);
if (process.env.CALL === 'openai') {
  const OpenAI = loaded.openai.default;
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${process.env.REPLAY_URL}/v1` });
  await openai.chat.completions.create({
    model: process.env.OPENAI_MODEL,
    messages: [{ role: 'user', content: 'Hi' }],
  });
}
process.on('exit', () => {
  let esm = [];
  try {
    esm = readFileSync(process.env.LOADED_URLS_FILE, 'utf8').split('\n').filter(Boolean);
  } catch {}
  process.stdout.write(`${JSON.stringify({ cjs: Object.keys(require.cache), esm })}\n`);
});
