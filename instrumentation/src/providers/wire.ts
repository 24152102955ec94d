import type { CallSpec } from '../core/call.js';
import * as anthropic from './anthropic.js';
import * as google from './google.js';
import * as openai from './openai.js';
import type { ResultReader } from './stainless.js';

/**
 * The providers' HTTP APIs as a proxy sees them (tokenmeter's gateway): which request is an AI
 * call, how to describe it from its body, and which reader reads its answer. The describe
 * functions and readers are the ones the SDK wrappers use, so each provider's usage is parsed in
 * one place whether the call came through an SDK or over the wire.
 */
export interface WireCall {
  spec: CallSpec;
  reader: ResultReader;
  /** The body to send instead (an OpenAI chat stream with include_usage asked for), else undefined. */
  body: Record<string, unknown> | undefined;
}

const PLAIN_CHAT = openai.chatReader(false);
const INJECTED_CHAT = openai.chatReader(true);

// Paths as the APIs name them, under any prefix (`/v1`, `/openai/v1` for Groq, `/api/v1` for OpenRouter).
const OPENAI_CHAT = /\/chat\/completions$/;
const OPENAI_RESPONSES = /\/responses$/;
const OPENAI_EMBEDDINGS = /\/embeddings$/;
const ANTHROPIC_MESSAGES = /\/v1\/messages$/;
/** Gemini API (`/v1beta/models/{m}:…`) and Vertex AI (`…/publishers/google/models/{m}:…`). */
const GOOGLE_MODEL = /\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/;

/** Whether a `POST` to `path` may be an AI call (its body is then read); any other request passes through unread. */
export function isWirePath(path: string): boolean {
  return (
    ANTHROPIC_MESSAGES.test(path) ||
    OPENAI_CHAT.test(path) ||
    OPENAI_RESPONSES.test(path) ||
    OPENAI_EMBEDDINGS.test(path) ||
    GOOGLE_MODEL.test(path)
  );
}

/**
 * The AI call a `POST` to `path` (without the query) with this JSON body is, or undefined for a
 * request to pass through unread. `baseURL` is where it goes (it names OpenAI-compatible hosts).
 */
export function wireCall(path: string, body: any, baseURL: string): WireCall | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  if (ANTHROPIC_MESSAGES.test(path)) {
    return { spec: anthropic.describeRequest(baseURL, body), reader: anthropic.messagesReader, body: undefined };
  }
  if (OPENAI_CHAT.test(path)) {
    const injected = openai.withIncludeUsageAt(baseURL, body);
    return {
      spec: openai.describeRequest(baseURL, body, 'chat'),
      reader: injected ? INJECTED_CHAT : PLAIN_CHAT,
      body: injected,
    };
  }
  if (OPENAI_RESPONSES.test(path)) {
    return { spec: openai.describeRequest(baseURL, body, 'chat'), reader: openai.responsesReader, body: undefined };
  }
  if (OPENAI_EMBEDDINGS.test(path)) {
    return {
      spec: openai.describeRequest(baseURL, body, 'embeddings'),
      reader: openai.embeddingsReader,
      body: undefined,
    };
  }
  const g = GOOGLE_MODEL.exec(path);
  if (g) {
    const model = decodeURIComponent(g[1]!);
    const method = g[2]!;
    const isEmbedding = method === 'embedContent' || method === 'batchEmbedContents';
    const params = google.paramsOfRequest(model, isEmbedding ? { contents: body.content ?? body.requests } : body);
    const spec = google.describeParams(
      params,
      isEmbedding ? 'embeddings' : 'generate_content',
      method === 'streamGenerateContent',
      path.includes('/publishers/google/'),
    );
    return { spec, reader: isEmbedding ? google.embedReader : google.generateReader, body: undefined };
  }
  return undefined;
}
