/**
 * A local stand-in for the provider APIs that tests cannot reach: the real SDKs point their
 * base URL here and get real-shaped answers (JSON, SSE, AWS event streams) from fixtures.ts.
 * One HTTP/1.1 server and one cleartext HTTP/2 (h2c) server share one handler, one request
 * log and one set of scenario counters; every route is served on both.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { anthropicRoutes } from './anthropic.js';
import { bedrockRoutes } from './bedrock.js';
import { ERRORS, type ErrorKind } from './errors.js';
import { AFTER_TOOL, type ContentScenario, FIXTURES, type Fixture } from './fixtures.js';
import { gatewayRoutes } from './gateway.js';
import { googleRoutes } from './google.js';
import { openaiRoutes } from './openai.js';
import { jsonReply, type Reply, type RouteSpec } from './reply.js';

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received (percent-encoding kept). */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * Parsed JSON, or the raw text when the body is not JSON ('' when empty). A multipart form
   * (audio uploads) is its fields: text as strings, files as `{ filename, size }`.
   */
  body: unknown;
  /** Date.now() when the body had arrived. */
  at: number;
  /** How the answer ended: sent whole, or cut off because the client went away (set when it ends). */
  outcome?: 'complete' | 'cancelled';
}

export interface ReplayServer {
  /** http://127.0.0.1:<port>, HTTP/1.1: OpenAI, OpenAI-compatible, Azure, Anthropic, Google (and Bedrock, for an explicit HTTP/1.1 requestHandler). */
  url: string;
  /** http://127.0.0.1:<port2>, cleartext HTTP/2 only: what the Bedrock runtime SDK's default NodeHttp2Handler speaks. */
  h2Url: string;
  /** Every request received, both servers, in order. */
  requests: RecordedRequest[];
  /** Clears requests and per-scenario counters. */
  reset(): void;
  close(): Promise<void>;
}

/** Scenarios that pick a fixture (the others modify the `ok` answer or replace it with an error). */
const CONTENT_SCENARIO_NAMES = [
  'ok',
  'tool-call',
  'reasoning',
  'cache',
  'audio',
  'cached-audio',
  'speech',
  'web-search',
] as const satisfies readonly ContentScenario[];

export const SCENARIOS = [
  ...CONTENT_SCENARIO_NAMES,
  'rate-limit-once',
  'error-500',
  'overloaded',
  'slow-stream',
  'no-usage',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_HEADER = 'x-replay-scenario';
/** Optional: separates rate-limit-once counters for requests that are otherwise alike. */
export const SCENARIO_KEY_HEADER = 'x-replay-key';
/** slow-stream: the gap before each stream frame, and the delay of a whole non-streamed answer. */
export const SLOW_FRAME_GAP_MS = 50;
export const SLOW_BODY_DELAY_MS = 250;

const ROUTES: RouteSpec[] = [...openaiRoutes, ...anthropicRoutes, ...googleRoutes, ...bedrockRoutes, ...gatewayRoutes];
const CONTENT_SCENARIOS = new Set<string>(CONTENT_SCENARIO_NAMES);
const ERROR_SCENARIOS: Partial<Record<Scenario, ErrorKind>> = { 'error-500': 'server', overloaded: 'overloaded' };

function isScenario(value: string): value is Scenario {
  return (SCENARIOS as readonly string[]).includes(value);
}

/**
 * `gpt-4o-mini@rate-limit-once` → model `gpt-4o-mini`, scenario `rate-limit-once`. Only a known
 * scenario name counts as a suffix, so Vertex-style ids such as `claude-3-5-sonnet@20240620` pass through.
 */
export function splitModel(model: string): { model: string; scenario?: Scenario } {
  const at = model.lastIndexOf('@');
  const suffix = at >= 0 ? model.slice(at + 1) : '';
  return isScenario(suffix) ? { model: model.slice(0, at), scenario: suffix } : { model };
}

function replayError(status: number, message: string): Reply {
  return jsonReply({ type: 'error', error: { type: 'replay_error', message } }, {}, status);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface State {
  requests: RecordedRequest[];
  /** rate-limit-once keys that have had their 429. */
  limited: Set<string>;
}

interface Matched {
  route: RouteSpec;
  params: Record<string, string>;
}

function matchRoute(method: string, pathname: string): Matched | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = decodeURIComponent(v);
    return { route, params };
  }
  return undefined;
}

/** Decides the answer to one request: pure apart from the rate-limit-once memory. */
function answer(state: State, rec: RecordedRequest, url: URL): { reply: Reply; slow: boolean } {
  const matched = matchRoute(rec.method, url.pathname);
  if (!matched) return { reply: replayError(404, `replay: no route for ${rec.method} ${url.pathname}`), slow: false };
  const { route, params } = matched;
  const body: Record<string, any> =
    rec.body && typeof rec.body === 'object' && !Array.isArray(rec.body) ? { ...(rec.body as object) } : {};

  const named = route.modelHeader
    ? (firstHeader(rec.headers[route.modelHeader]) ?? '')
    : (params.model ?? (typeof body.model === 'string' ? body.model : ''));
  const split = splitModel(named);
  if (!route.modelHeader && params.model === undefined && typeof body.model === 'string') body.model = split.model;
  const header = firstHeader(rec.headers[SCENARIO_HEADER]);
  if (header !== undefined && !isScenario(header)) {
    return {
      reply: replayError(400, `replay: unknown scenario "${header}"; known: ${SCENARIOS.join(', ')}`),
      slow: false,
    };
  }
  const scenario: Scenario = header ?? split.scenario ?? 'ok';

  if (scenario === 'rate-limit-once') {
    const key = `${route.name}|${split.model}|${firstHeader(rec.headers[SCENARIO_KEY_HEADER]) ?? ''}`;
    if (!state.limited.has(key)) {
      state.limited.add(key);
      return { reply: errorReply(route, 'rate-limit'), slow: false };
    }
  }
  const errorKind = ERROR_SCENARIOS[scenario];
  if (errorKind) return { reply: errorReply(route, errorKind), slow: false };

  const contentScenario = (CONTENT_SCENARIOS.has(scenario) ? scenario : 'ok') as ContentScenario;
  const scenarioFixture = (FIXTURES[route.name] as Partial<Record<ContentScenario, Fixture>>)[contentScenario];
  const afterTool = contentScenario === 'tool-call' && route.hasToolResult?.(body) ? AFTER_TOOL[route.name] : undefined;
  const fixture = afterTool ?? scenarioFixture;
  if (!fixture) {
    return { reply: replayError(400, `replay: scenario "${scenario}" has no fixture for ${route.name}`), slow: false };
  }
  const query = url.searchParams;
  const stream = route.isStream({ params, body, query, headers: rec.headers });
  const reply = route.render({
    fixture,
    model: split.model,
    body,
    query,
    params,
    stream,
    noUsage: scenario === 'no-usage',
  });
  return { reply, slow: scenario === 'slow-stream' };
}

function errorReply(route: RouteSpec, kind: ErrorKind): Reply {
  const e = ERRORS[route.errors][kind];
  return jsonReply(e.body, e.headers, e.status);
}

// --- I/O ---------------------------------------------------------------------------

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readBody(req: Req): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A multipart form's fields, parsed by the platform's own form-data parser; else JSON or text. */
async function parseRequestBody(raw: Buffer, contentType: string | undefined): Promise<unknown> {
  if (!contentType?.startsWith('multipart/form-data')) return parseBody(raw.toString('utf8'));
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const fields: Record<string, unknown> = {};
  for (const [k, v] of form) fields[k] = typeof v === 'string' ? v : { filename: v.name, size: v.size };
  return fields;
}

async function send(res: Res, reply: Reply, slow: boolean): Promise<'complete' | 'cancelled'> {
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  if ('body' in reply) {
    if (slow) await sleep(SLOW_BODY_DELAY_MS);
    if (closed) return 'cancelled';
    const headers = { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) };
    (res as http.ServerResponse).writeHead(reply.status, headers);
    res.end(reply.body);
    return 'complete';
  }
  (res as http.ServerResponse).writeHead(reply.status, reply.headers);
  if ('flushHeaders' in res) res.flushHeaders();
  for (const frame of reply.frames) {
    if (slow) await sleep(SLOW_FRAME_GAP_MS);
    // The client went away (an aborted stream): stop, as a provider would.
    if (closed) return 'cancelled';
    (res as http.ServerResponse).write(frame);
  }
  res.end();
  return 'complete';
}

function handlerFor(state: State) {
  return async (req: Req, res: Res) => {
    try {
      const raw = await readBody(req);
      const headers: RecordedRequest['headers'] = {};
      for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':')) headers[k] = v;
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers,
        body: await parseRequestBody(raw, firstHeader(headers['content-type'])),
        at: Date.now(),
      };
      state.requests.push(rec);
      const { reply, slow } = answer(state, rec, new URL(rec.path, 'http://replay.local'));
      rec.outcome = await send(res, reply, slow);
    } catch (err) {
      console.error('replay server: failed to answer', err);
      if (!res.headersSent) {
        const reply = replayError(500, `replay: ${(err as Error).message}`) as { body: string };
        (res as http.ServerResponse).writeHead(500, { 'content-type': 'application/json' });
        res.end(reply.body);
      } else {
        res.end();
      }
    }
  };
}

function listen(server: http.Server | http2.Http2Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startReplayServer(opts: { port?: number; h2Port?: number } = {}): Promise<ReplayServer> {
  const state: State = { requests: [], limited: new Set() };
  const handler = handlerFor(state);
  const h1 = http.createServer((req, res) => void handler(req, res));
  const h2 = http2.createServer((req, res) => void handler(req, res));
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const port = await listen(h1, opts.port ?? 0);
  const h2Port = await listen(h2, opts.h2Port ?? 0).catch(async (err) => {
    await new Promise((resolve) => h1.close(resolve));
    throw err;
  });

  return {
    url: `http://127.0.0.1:${port}`,
    h2Url: `http://127.0.0.1:${h2Port}`,
    requests: state.requests,
    reset() {
      state.requests.length = 0;
      state.limited.clear();
    },
    async close() {
      h1.closeAllConnections();
      for (const session of sessions) session.destroy();
      await Promise.all([
        new Promise<void>((resolve) => h1.close(() => resolve())),
        new Promise<void>((resolve) => h2.close(() => resolve())),
      ]);
    },
  };
}
