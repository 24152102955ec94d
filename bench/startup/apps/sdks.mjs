// An app that imports the three SDKs and makes a client of each (no call, no network): what
// loading and patching them costs at start-up.
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-bench' });
const anthropic = new Anthropic({ apiKey: 'sk-bench' });
const google = new GoogleGenAI({ apiKey: 'bench' });

// `--check`: which SDK methods the set-up actually patched (shimmer marks its wrappers, tokenmeter
// its own: instrumentations/base.ts), so a set-up that loads fast because it patched nothing is
// seen as such.
if (process.env.BENCH_STARTUP_CHECK) {
  const TOKENMETER = Symbol.for('@tokenmeter/instrumentation.original');
  const wrapped = (fn) => Boolean(fn?.__wrapped || fn?.__original || fn?.[TOKENMETER]);
  console.log(
    JSON.stringify({
      app: 'sdks',
      openai: wrapped(openai.chat.completions.create),
      anthropic: wrapped(anthropic.messages.create),
      // Its public methods are per-instance arrows: the prototype methods they call are what is wrapped.
      google:
        wrapped(google.models.generateContent) || wrapped(Object.getPrototypeOf(google.models).generateContentInternal),
    }),
  );
}
