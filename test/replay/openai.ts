/**
 * OpenAI's routes: chat completions, Responses, embeddings. OpenAI-compatible hosts
 * (Groq, DeepSeek, xAI, Mistral, Together, OpenRouter) use the same paths under their own
 * prefix; Azure OpenAI puts the deployment in the path and adds content-filter results.
 */
import type { Fixture, ReportedUsage } from './fixtures.js';
import { embeddingVector, OPENAI_BATCH_LINES } from './fixtures.js';
import {
  jsonReply,
  nowSeconds,
  piecesOf,
  type RenderInput,
  type Reply,
  type RouteSpec,
  sseData,
  sseEvent,
  sseReply,
} from './reply.js';

const FINGERPRINT = 'fp_b376dfbbd5';
const AZURE_FILTERS = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

function chatUsage(u: ReportedUsage) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.total,
    prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: u.audioInput },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning,
      audio_tokens: u.audioOutput,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function toolCallOf(f: Fixture) {
  const t = f.toolCall!;
  return { id: t.id, type: 'function', function: { name: t.name, arguments: JSON.stringify(t.arguments) } };
}

function chatMessage(f: Fixture) {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: f.toolCall || f.audio ? null : f.text,
    refusal: null,
    annotations: [],
  };
  if (f.toolCall) message.tool_calls = [toolCallOf(f)];
  if (f.audio)
    message.audio = { id: f.audio.id, data: f.audio.data, expires_at: f.audio.expiresAt, transcript: f.text };
  return message;
}

function renderChat({ fixture: f, model, body, stream, noUsage, params }: RenderInput): Reply {
  const isAzure = params.model !== undefined;
  const created = nowSeconds();
  const usage = f.usage && !noUsage ? chatUsage(f.usage) : undefined;
  if (!stream) {
    return jsonReply({
      id: f.id,
      object: 'chat.completion',
      created,
      model,
      ...(isAzure ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: AZURE_FILTERS }] } : {}),
      choices: [
        {
          index: 0,
          message: chatMessage(f),
          logprobs: null,
          finish_reason: f.finishReason,
          ...(isAzure ? { content_filter_results: AZURE_FILTERS } : {}),
        },
      ],
      ...(usage ? { usage } : {}),
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
    });
  }

  // OpenAI sends a usage chunk only when asked, and then `usage: null` on every other chunk.
  const includeUsage = body.stream_options?.include_usage === true && usage !== undefined;
  const base = {
    id: f.id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: FINGERPRINT,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const frames: string[] = [];
  // Azure's first chunk carries the prompt filter results and no choices.
  if (isAzure) {
    frames.push(
      sseData({
        id: '',
        object: '',
        created: 0,
        model: '',
        choices: [],
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: AZURE_FILTERS }],
      }),
    );
  }
  if (f.toolCall) {
    const call = toolCallOf(f);
    frames.push(
      sseData(
        chunk({
          role: 'assistant',
          content: null,
          tool_calls: [
            { index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
          ],
          refusal: null,
        }),
      ),
    );
    for (const piece of piecesOf(call.function.arguments)) {
      frames.push(sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })));
    }
  } else if (f.audio) {
    frames.push(sseData(chunk({ role: 'assistant', content: null, refusal: null })));
    f.chunks.forEach((piece, i) => {
      frames.push(sseData(chunk({ audio: i === 0 ? { id: f.audio!.id, transcript: piece } : { transcript: piece } })));
    });
    frames.push(sseData(chunk({ audio: { data: f.audio.data } })));
    frames.push(sseData(chunk({ audio: { expires_at: f.audio.expiresAt } })));
  } else {
    frames.push(sseData(chunk({ role: 'assistant', content: '', refusal: null })));
    for (const piece of f.chunks) frames.push(sseData(chunk({ content: piece })));
  }
  frames.push(sseData(chunk({}, f.finishReason)));
  if (includeUsage) frames.push(sseData({ ...base, choices: [], usage }));
  frames.push(sseData('[DONE]'));
  return sseReply(frames);
}

// --- Responses API ---------------------------------------------------------------

function responsesUsage(u: ReportedUsage) {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cacheRead },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.total,
  };
}

function itemIds(f: Fixture) {
  const suffix = f.id.replace(/^resp_/, '');
  return {
    message: `msg_${suffix}`,
    reasoning: `rs_${suffix}`,
    call: `fc_${suffix}`,
    webSearch: (i: number) => `ws_${suffix}${i}`,
    fileSearch: (i: number) => `fs_${suffix}${i}`,
  };
}

function outputText(text: string) {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

/** The finished output items; `body.reasoning.summary` decides whether a reasoning summary is shown, as OpenAI does. */
function responseOutput(f: Fixture, body: Record<string, any>) {
  const ids = itemIds(f);
  const output: Record<string, unknown>[] = [];
  if (f.reasoning) {
    const summary = body.reasoning?.summary ? [{ type: 'summary_text', text: f.reasoning.text }] : [];
    output.push({ id: ids.reasoning, type: 'reasoning', summary });
  }
  // Built-in tools run before the answer, each one output item (OpenAI bills each as one tool call).
  for (let i = 0; i < (f.builtInTools?.webSearches ?? 0); i++) {
    const query = i === 0 ? 'refund window 2026 policy' : 'city council refund vote March 2026';
    output.push({
      id: ids.webSearch(i),
      type: 'web_search_call',
      status: 'completed',
      action: { type: 'search', query },
    });
  }
  for (let i = 0; i < (f.builtInTools?.fileSearches ?? 0); i++) {
    output.push({
      id: ids.fileSearch(i),
      type: 'file_search_call',
      status: 'completed',
      queries: ['refund window'],
      results: null,
    });
  }
  if (f.toolCall) {
    output.push({
      id: ids.call,
      type: 'function_call',
      status: 'completed',
      arguments: JSON.stringify(f.toolCall.arguments),
      call_id: f.toolCall.id,
      name: f.toolCall.name,
    });
  } else {
    output.push({
      id: ids.message,
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [outputText(f.text)],
    });
  }
  return output;
}

function responseObject(input: RenderInput, createdAt: number, done: boolean) {
  const { fixture: f, model, body, noUsage } = input;
  return {
    id: f.id,
    object: 'response',
    created_at: createdAt,
    status: done ? 'completed' : 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: done ? responseOutput(f, body) : [],
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    ...(done && f.usage && !noUsage ? { usage: responsesUsage(f.usage) } : { usage: null }),
    user: null,
    metadata: body.metadata ?? {},
  };
}

function renderResponses(input: RenderInput): Reply {
  const createdAt = nowSeconds();
  if (!input.stream) return jsonReply(responseObject(input, createdAt, true));

  const finished = responseObject(input, createdAt, true);
  const items = finished.output as Record<string, any>[];
  let seq = 0;
  const frames: string[] = [];
  const emit = (type: string, data: Record<string, unknown>) => {
    frames.push(sseEvent(type, { type, sequence_number: seq++, ...data }));
  };
  emit('response.created', { response: responseObject(input, createdAt, false) });
  emit('response.in_progress', { response: responseObject(input, createdAt, false) });
  items.forEach((item, outputIndex) => {
    if (item.type === 'reasoning') {
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, summary: [] } });
      item.summary.forEach((part: { text: string }, summaryIndex: number) => {
        const at = { item_id: item.id, output_index: outputIndex, summary_index: summaryIndex };
        emit('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } });
        for (const delta of piecesOf(part.text, 16)) emit('response.reasoning_summary_text.delta', { ...at, delta });
        emit('response.reasoning_summary_text.done', { ...at, text: part.text });
        emit('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text: part.text } });
      });
      emit('response.output_item.done', { output_index: outputIndex, item });
    } else if (item.type === 'function_call') {
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      for (const delta of piecesOf(item.arguments)) {
        emit('response.function_call_arguments.delta', { item_id: item.id, output_index: outputIndex, delta });
      }
      emit('response.function_call_arguments.done', {
        item_id: item.id,
        output_index: outputIndex,
        name: item.name,
        arguments: item.arguments,
      });
      emit('response.output_item.done', { output_index: outputIndex, item });
    } else if (item.type === 'web_search_call' || item.type === 'file_search_call') {
      const tool = item.type.replace(/_call$/, '');
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress' } });
      for (const phase of ['in_progress', 'searching', 'completed']) {
        emit(`response.${tool}_call.${phase}`, { item_id: item.id, output_index: outputIndex });
      }
      emit('response.output_item.done', { output_index: outputIndex, item });
    } else {
      const at = { item_id: item.id, output_index: outputIndex, content_index: 0 };
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      });
      emit('response.content_part.added', { ...at, part: outputText('') });
      for (const delta of input.fixture.chunks) emit('response.output_text.delta', { ...at, delta, logprobs: [] });
      emit('response.output_text.done', { ...at, text: input.fixture.text, logprobs: [] });
      emit('response.content_part.done', { ...at, part: outputText(input.fixture.text) });
      emit('response.output_item.done', { output_index: outputIndex, item });
    }
  });
  emit('response.completed', { response: finished });
  return sseReply(frames);
}

// --- Embeddings --------------------------------------------------------------------

function inputCount(input: unknown): number {
  if (!Array.isArray(input)) return 1;
  return typeof input[0] === 'number' ? 1 : input.length;
}

function renderEmbeddings({ fixture: f, model, body, noUsage }: RenderInput): Reply {
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : f.dimensions!;
  const base64 = body.encoding_format === 'base64';
  const data = Array.from({ length: inputCount(body.input) }, (_, index) => {
    const vector = embeddingVector(index, dimensions);
    const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const usage = f.usage && !noUsage ? { prompt_tokens: f.usage.input, total_tokens: f.usage.total } : undefined;
  return jsonReply({ object: 'list', data, model, ...(usage ? { usage } : {}) });
}

/** One tiny PNG (1×1, transparent): the SDK hands it over without decoding it. */
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/** gpt-image-1: the image and its token usage; dall-e-2/3: per image, no usage (as OpenAI answers). */
function renderImages({ fixture: f, model, body }: RenderInput): Reply {
  const n = typeof body.n === 'number' ? body.n : 1;
  const created = nowSeconds();
  if (model.startsWith('dall-e')) {
    const data = Array.from({ length: n }, () => ({
      url: 'https://images.example.invalid/img-replay.png',
      revised_prompt: String(body.prompt ?? ''),
    }));
    return jsonReply({ created, data });
  }
  const u = f.usage!;
  return jsonReply({
    created,
    background: 'opaque',
    data: Array.from({ length: n }, () => ({ b64_json: PNG_B64 })),
    output_format: 'png',
    quality: 'high',
    size: '1024x1024',
    usage: {
      input_tokens: u.input,
      input_tokens_details: { image_tokens: 0, text_tokens: u.input },
      output_tokens: u.output,
      total_tokens: u.total,
    },
  });
}

/**
 * audio.transcriptions / audio.translations: whisper-1 reports the audio's duration (`usage` of
 * type duration in json, `duration` in verbose_json, nothing in text/srt/vtt); the gpt-4o
 * transcribe models report tokens, and stream `transcript.text.delta` / `transcript.text.done`
 * (with the usage) when asked to. Form fields arrive as strings.
 */
function renderAudioText(task: 'transcribe' | 'translate') {
  return ({ fixture: f, model, body, stream }: RenderInput): Reply => {
    const format = String(body.response_format ?? 'json');
    const seconds = f.durationSeconds ?? 0;
    if (format === 'text') {
      return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${f.text}\n` };
    }
    if (model.startsWith('whisper')) {
      const usage = { type: 'duration', seconds: Math.ceil(seconds) };
      if (format !== 'verbose_json')
        return jsonReply(task === 'translate' ? { text: f.text } : { text: f.text, usage });
      return jsonReply({
        task,
        language: 'english',
        duration: seconds,
        text: f.text,
        segments: [{ id: 0, seek: 0, start: 0, end: seconds, text: f.text, tokens: [50364, 2561], temperature: 0 }],
        ...(task === 'transcribe' ? { usage } : {}),
      });
    }
    const u = f.usage!;
    const usage = {
      type: 'tokens',
      input_tokens: u.input,
      input_token_details: { text_tokens: u.input - u.audioInput, audio_tokens: u.audioInput },
      output_tokens: u.output,
      total_tokens: u.total,
    };
    if (!stream) return jsonReply({ text: f.text, usage });
    const frames = f.chunks.map((delta) => sseData({ type: 'transcript.text.delta', delta, logprobs: [] }));
    frames.push(sseData({ type: 'transcript.text.done', text: f.text, logprobs: [], usage }));
    return sseReply(frames);
  };
}

/** audio.speech: a few bytes of MP3 frame header stand for the audio (the SDK hands the Response over unread). */
const MP3_BYTES = new Uint8Array([0xff, 0xf3, 0x84, 0xc4, 0x00, 0x00, 0x00, 0x03, 0x48, 0x00, 0x00, 0x00, 0x00]);
function renderSpeech(): Reply {
  return { status: 200, headers: { 'content-type': 'audio/mpeg' }, body: MP3_BYTES };
}

/** A Batch that completed; its output file is served by renderBatchOutput. */
function renderBatch({ params }: RenderInput): Reply {
  const suffix = params.id!.replace(/^batch_/, '');
  return jsonReply({
    id: params.id,
    object: 'batch',
    endpoint: '/v1/chat/completions',
    errors: null,
    input_file_id: `file-in${suffix}`,
    completion_window: '24h',
    status: 'completed',
    output_file_id: `file-out${suffix}`,
    error_file_id: null,
    created_at: 1765090800,
    in_progress_at: 1765090812,
    expires_at: 1765177200,
    finalizing_at: 1765094100,
    completed_at: 1765094160,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: OPENAI_BATCH_LINES.length, completed: 3, failed: 1 },
    metadata: {},
  });
}

/** A Batch output file: one JSON line per request, as OpenAI writes it (application/octet-stream). */
function renderBatchOutput({ params }: RenderInput): Reply {
  const lines = OPENAI_BATCH_LINES.map((l, i) => {
    const id = `batch_req_${params.id!.replace(/^file-/, '')}${i}`;
    const requestId = `req_${i}c0ffee${params.id!.length}`;
    if (!l.usage) {
      const error = {
        message: "Invalid value for 'temperature': 3",
        type: 'invalid_request_error',
        param: 'temperature',
        code: null,
      };
      return {
        id,
        custom_id: l.customId,
        response: { status_code: 400, request_id: requestId, body: { error } },
        error: null,
      };
    }
    const body =
      l.object === 'list'
        ? {
            object: 'list',
            data: [{ object: 'embedding', index: 0, embedding: embeddingVector(0, 8) }],
            model: l.model,
            usage: { prompt_tokens: l.usage.input, total_tokens: l.usage.input },
          }
        : {
            id: `chatcmpl-B${i}tch${params.id!.slice(-8)}`,
            object: 'chat.completion',
            created: 1765091000 + i,
            model: l.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'Refund approved.', refusal: null, annotations: [] },
                logprobs: null,
                finish_reason: 'stop',
              },
            ],
            usage: {
              prompt_tokens: l.usage.input,
              completion_tokens: l.usage.output,
              total_tokens: l.usage.input + l.usage.output,
              prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
              completion_tokens_details: {
                reasoning_tokens: 0,
                audio_tokens: 0,
                accepted_prediction_tokens: 0,
                rejected_prediction_tokens: 0,
              },
            },
            service_tier: 'default',
            system_fingerprint: 'fp_8bda4d3a2c',
          };
    return { id, custom_id: l.customId, response: { status_code: 200, request_id: requestId, body }, error: null };
  });
  return {
    status: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
  };
}

const isStreamBody = ({ body }: { body: Record<string, any> }) => body.stream === true;
/** A multipart form says `stream=true` as text. */
const isStreamForm = ({ body }: { body: Record<string, any> }) => body.stream === true || body.stream === 'true';

function chatHasToolResult(body: Record<string, any>): boolean {
  return Array.isArray(body.messages) && body.messages.some((m: { role?: string }) => m?.role === 'tool');
}

export const openaiRoutes: RouteSpec[] = [
  {
    name: 'openaiChat',
    errors: 'openai',
    method: 'POST',
    pattern: /^\/openai\/deployments\/(?<model>[^/]+)\/chat\/completions$/,
    isStream: isStreamBody,
    render: renderChat,
    hasToolResult: chatHasToolResult,
  },
  {
    name: 'openaiEmbeddings',
    errors: 'openai',
    method: 'POST',
    pattern: /^\/openai\/deployments\/(?<model>[^/]+)\/embeddings$/,
    isStream: () => false,
    render: renderEmbeddings,
  },
  // Any prefix: /v1 (OpenAI, xAI, Mistral, Together), /openai/v1 (Groq), /api/v1 (OpenRouter), none (DeepSeek).
  {
    name: 'openaiChat',
    errors: 'openai',
    method: 'POST',
    pattern: /\/chat\/completions$/,
    isStream: isStreamBody,
    render: renderChat,
    hasToolResult: chatHasToolResult,
  },
  {
    name: 'openaiResponses',
    errors: 'openai',
    method: 'POST',
    pattern: /\/responses$/,
    isStream: isStreamBody,
    render: renderResponses,
  },
  {
    name: 'openaiEmbeddings',
    errors: 'openai',
    method: 'POST',
    pattern: /\/embeddings$/,
    isStream: () => false,
    render: renderEmbeddings,
  },
  {
    name: 'openaiImages',
    errors: 'openai',
    method: 'POST',
    pattern: /\/images\/generations$/,
    isStream: () => false,
    render: renderImages,
  },
  {
    name: 'openaiTranscriptions',
    errors: 'openai',
    method: 'POST',
    pattern: /\/audio\/transcriptions$/,
    isStream: isStreamForm,
    render: renderAudioText('transcribe'),
  },
  {
    name: 'openaiTranscriptions',
    errors: 'openai',
    method: 'POST',
    pattern: /\/audio\/translations$/,
    isStream: () => false,
    render: renderAudioText('translate'),
  },
  {
    name: 'openaiSpeech',
    errors: 'openai',
    method: 'POST',
    pattern: /\/audio\/speech$/,
    isStream: () => false,
    render: renderSpeech,
  },
  {
    name: 'openaiBatches',
    errors: 'openai',
    method: 'GET',
    pattern: /\/batches\/(?<id>batch_[^/]+)$/,
    isStream: () => false,
    render: renderBatch,
  },
  {
    name: 'openaiBatches',
    errors: 'openai',
    method: 'GET',
    pattern: /\/files\/(?<id>[^/]+)\/content$/,
    isStream: () => false,
    render: renderBatchOutput,
  },
];
