import { startCall } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { isInstrumentationEnabled } from '../core/run.js';
import { hostOf } from '../providers/hosts.js';
import * as openai from '../providers/openai.js';
import type { ResultReader } from '../providers/stainless.js';

/**
 * OpenAI Batch: the output file of a batch (`files.content(batch.output_file_id)`) holds one JSON
 * line per request, each with the response the endpoint would have given. Each succeeded line is
 * one call billed at the model's batch price: a span marked `tokenmeter.request.batch`, read by
 * the same readers as the synchronous endpoints. Failed lines (an error, a status other than 200)
 * are not billed and get no span.
 *
 * Two ways in: the SDK's `files.content()` is observed (the Response reaches the app as is; when
 * the app reads it with `text()`, the text it gets is read again, after the app has it), and
 * `recordOpenAIBatchOutput(text)` for an app that reads the file otherwise (a stream, a copy).
 */

const PLAIN_CHAT = openai.chatReader(false);

/** The endpoint's reader and operation, by the kind of body the line holds. */
function readerOf(body: any): { reader: ResultReader; operation: 'chat' | 'embeddings' } | undefined {
  switch (body?.object) {
    case 'chat.completion':
      return { reader: PLAIN_CHAT, operation: 'chat' };
    case 'response':
      return { reader: openai.responsesReader, operation: 'chat' };
    case 'list':
      return { reader: openai.embeddingsReader, operation: 'embeddings' };
    default:
      return undefined;
  }
}

/** Line ids (`batch_req_…`) already recorded by this process: a file read twice is counted once. */
const seen = new Set<string>();
const SEEN_LIMIT = 200_000;

function recordLine(baseURL: unknown, line: any): boolean {
  const response = line?.response;
  const body = response?.status_code === 200 && !line.error ? response.body : undefined;
  const kind = readerOf(body);
  if (!kind || typeof body.model !== 'string' || !body.usage) return false;
  const id = typeof line.id === 'string' ? line.id : '';
  if (id && seen.has(id)) return false;
  const host = hostOf(baseURL, 'openai');
  const call = startCall({
    provider: host.provider,
    operation: kind.operation,
    requestModel: body.model,
    isStreaming: false,
    serverAddress: host.address,
    serverPort: host.port,
    batch: true,
  });
  kind.reader.read(body, call);
  call.end();
  if (id) {
    if (seen.size >= SEEN_LIMIT) seen.clear();
    seen.add(id);
  }
  return true;
}

/** A batch output file starts with a line such as {"id":"batch_req_…","custom_id":…,"response":…}. */
function looksLikeBatchOutput(text: string): boolean {
  const end = text.indexOf('\n');
  const first = end < 0 ? text : text.slice(0, end);
  return first.startsWith('{') && first.includes('"custom_id"') && first.includes('"response"');
}

function recordLines(baseURL: unknown, text: string): number {
  let recorded = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line) continue;
    try {
      if (recordLine(baseURL, JSON.parse(line))) recorded++;
    } catch (err) {
      recordFault('openai.batch.line', err);
    }
  }
  return recorded;
}

/**
 * Record the calls of an OpenAI Batch output file (JSON Lines, as `files.content()` returns it):
 * one batch-priced span per succeeded request. For apps that read the file other than through
 * `(await client.files.content(id)).text()`, which is recorded by itself. A line recorded before
 * in this process is not recorded again. Returns how many calls were recorded; never throws.
 */
export function recordOpenAIBatchOutput(jsonl: string, options: { baseURL?: string } = {}): number {
  return safelyRecord(options.baseURL, jsonl);
}

function safelyRecord(baseURL: unknown, jsonl: string): number {
  if (!isInstrumentationEnabled() || typeof jsonl !== 'string') return 0;
  try {
    return recordLines(baseURL, jsonl);
  } catch (err) {
    recordFault('openai.batch', err);
    return 0;
  }
}

/**
 * `files.content(id)`: the SDK's promise and Response are returned as they are; when the app
 * reads the Response with `text()` and it is a batch output file, its lines are recorded after
 * the app has the text (the body is never read by us).
 */
export function wrapFilesContent(original: (...args: any[]) => any) {
  return function content(this: any, ...args: any[]) {
    const pending = original.apply(this, args);
    if (!isInstrumentationEnabled()) return pending;
    try {
      observeContent(this?._client?.baseURL, pending);
    } catch (err) {
      recordFault('openai.batch', err);
    }
    return pending;
  };
}

function observeContent(baseURL: unknown, pending: any): void {
  const parse = pending?.parseResponse;
  if (typeof parse !== 'function') return;
  pending.parseResponse = function (this: unknown, client: unknown, props: unknown) {
    return Promise.resolve(parse.call(this, client, props)).then((response: unknown) => {
      try {
        observeText(baseURL, response);
      } catch (err) {
        recordFault('openai.batch', err);
      }
      return response;
    });
  };
}

function observeText(baseURL: unknown, response: any): void {
  const text = response?.text;
  if (typeof text !== 'function') return;
  Object.defineProperty(response, 'text', {
    configurable: true,
    writable: true,
    value: function (this: unknown) {
      return text.call(this).then((body: string) => {
        // After the app has its text: reading the lines never delays it.
        if (typeof body === 'string' && looksLikeBatchOutput(body)) {
          setImmediate(() => safelyRecord(baseURL, body));
        }
        return body;
      });
    },
  });
}
