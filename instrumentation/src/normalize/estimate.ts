import { estimateTokens } from '../core/estimate.js';
import type { Usage } from '../prices/types.js';
import * as S from '../semconv.js';
import type { AttrValue, Attributes } from './types.js';

/**
 * Usage counted from the message content a call span carries, for a span that states no usage
 * although the call was answered: OpenInference and traceloop write none on streamed chat calls,
 * OpenInference none on embeddings (test/conventions shows it with the real packages). Without it
 * the call would not be counted at all; with it the row is marked estimated. Undefined when the
 * span carries no content (the app did not capture it).
 */
export function estimateUsageFromContent(a: Attributes): Usage | undefined {
  const input: string[] = [];
  const output: string[] = [];
  collectMessages(a[S.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS], input);
  collectMessages(a[S.ATTR_GEN_AI_INPUT_MESSAGES], input);
  collectMessages(a[S.ATTR_GEN_AI_OUTPUT_MESSAGES], output);
  for (const key in a) {
    const v = a[key];
    if (typeof v !== 'string') continue;
    if (isContentKey(key, S.OPENLLMETRY.promptPrefix, '.content')) input.push(v);
    else if (isContentKey(key, S.OPENLLMETRY.completionPrefix, '.content')) output.push(v);
    else if (isContentKey(key, S.OPENINFERENCE.inputMessagesPrefix, '.message.content')) input.push(v);
    else if (isContentKey(key, S.OPENINFERENCE.outputMessagesPrefix, '.message.content')) output.push(v);
    else if (isContentKey(key, S.OPENINFERENCE.embeddingsPrefix, '.embedding.text')) input.push(v);
  }
  if (input.length === 0 && output.length === 0) return undefined;
  const count = (texts: string[]) => texts.reduce((n, t) => n + estimateTokens(t), 0);
  return { inputTokens: count(input), outputTokens: count(output) };
}

/** `<prefix><index><suffix>`, e.g. gen_ai.prompt.0.content. */
function isContentKey(key: string, prefix: string, suffix: string): boolean {
  if (!key.startsWith(prefix) || !key.endsWith(suffix)) return false;
  return /^\d+$/.test(key.slice(prefix.length, key.length - suffix.length));
}

/** Text of gen_ai.input/output.messages and system_instructions: JSON, messages with parts. */
function collectMessages(value: AttrValue | undefined, out: string[]): void {
  if (typeof value !== 'string') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    out.push(value);
    return;
  }
  collectText(parsed, out);
}

function collectText(node: unknown, out: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectText(item, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.content === 'string') out.push(o.content);
  else if (o.type === 'text' && typeof o.text === 'string') out.push(o.text);
  if (Array.isArray(o.parts)) collectText(o.parts, out);
  if (Array.isArray(o.content)) collectText(o.content, out);
}
