/**
 * Zero code changes: an ESM app under `--import` and a CommonJS app under `-r`, their spans
 * received on a real OTLP/HTTP endpoint (JSON and protobuf), decoded by the ingest service's
 * decoder and normalised into AI calls with exact tokens and the engine's cost.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { decodeTraces, encodingOf } from '../../ingest/src/otlp/decode.js';
import { normalizeSpan } from '../../instrumentation/src/normalize/normalize.js';
import type { AiCall, SpanInput } from '../../instrumentation/src/normalize/types.js';
import { FIXTURES } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';
import { engineCost } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const app = (name: string) => fileURLToPath(new URL(`./apps/${name}`, import.meta.url));

interface Received {
  headers: Record<string, string | string[] | undefined>;
  spans: SpanInput[];
}
let replay: ReplayServer;
let otlp: Server;
let otlpUrl: string;
let received: Received[] = [];
let metricBodies: string[] = [];

beforeAll(async () => {
  execFileSync('npx', ['tsc', '-b', 'instrumentation'], { cwd: root, stdio: 'pipe' });
  replay = await startReplayServer();
  otlp = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/metrics') metricBodies.push(Buffer.concat(chunks).toString('utf8'));
      if (req.url === '/v1/traces') {
        const encoding = encodingOf(req.headers['content-type']) ?? 'protobuf';
        received.push({ headers: req.headers, spans: decodeTraces(Buffer.concat(chunks), encoding).spans });
      }
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
    });
  });
  await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
  otlpUrl = `http://127.0.0.1:${(otlp.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  await replay?.close();
  await new Promise((r) => otlp?.close(r));
});
beforeEach(() => {
  received = [];
  metricBodies = [];
  replay.reset();
});

function run(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string }> } {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      REPLAY_URL: replay.url,
      REPLAY_H2_URL: replay.h2Url,
      OPENAI_MODEL: FIXTURES.openaiChat.ok.model,
      ANTHROPIC_MODEL: FIXTURES.anthropicMessages.ok.model,
      BEDROCK_MODEL: FIXTURES.bedrockConverse.ok.model,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer tm-test-key',
      ...env,
    },
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, done };
}

const ours = () => received.flatMap((r) => r.spans).filter((s) => s.scope.name === '@tokenmeter/instrumentation');
const calls = () =>
  received
    .flatMap((r) => r.spans)
    .map(normalizeSpan)
    .filter((c): c is AiCall => c !== null);

function expectCall(
  call: AiCall | undefined,
  provider: string,
  model: string,
  tokens: typeof FIXTURES.openaiChat.ok.tokens,
) {
  expect(call).toBeDefined();
  const t = tokens!;
  expect(call?.usage.inputTokens).toBe(t.inputTokens);
  expect(call?.usage.outputTokens).toBe(t.outputTokens);
  expect(call?.spanCost?.usd).toBe(engineCost(provider, model, t));
}

describe('node --import / -r with zero code changes', () => {
  test('ESM app under --import, OTLP http/json', async () => {
    const { done } = run(['--import', '@tokenmeter/instrumentation/register', app('esm-app.mjs')], {
      OTEL_SERVICE_NAME: 'esm-app',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,tokenmeter.tenant=acme',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    const result = await done;
    expect(result.code, result.out).toBe(0);
    expect(received.length).toBeGreaterThan(0);
    expect(received[0]?.headers.authorization).toBe('Bearer tm-test-key');
    expect(received[0]?.headers['content-type']).toContain('application/json');
    const all = calls();
    expect(all).toHaveLength(2);
    expect(all.every((c) => c.service === 'esm-app' && c.tenant === 'acme')).toBe(true);
    const chat = FIXTURES.openaiChat.ok;
    const msg = FIXTURES.anthropicMessages.ok;
    expectCall(
      all.find((c) => c.provider === 'openai'),
      'openai',
      chat.model,
      chat.tokens,
    );
    expectCall(
      all.find((c) => c.provider === 'anthropic'),
      'anthropic',
      msg.model,
      msg.tokens,
    );
    expect(all.find((c) => c.provider === 'anthropic')?.isStreaming).toBe(true);
    // Anthropic SDK ≥0.137 traces by itself: one call is still one call.
    expect(received.flatMap((r) => r.spans).filter((s) => s.scope.name.startsWith('com.anthropic'))).toHaveLength(0);
  });

  test('CommonJS app under -r, OTLP http/protobuf (the default)', async () => {
    const { done } = run(['-r', '@tokenmeter/instrumentation/register', app('cjs-app.cjs')], {
      OTEL_SERVICE_NAME: 'cjs-app',
    });
    const result = await done;
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(result.out.trim().split('\n').at(-1) ?? '{}').text).toBe(FIXTURES.openaiChat.ok.text);
    expect(received[0]?.headers['content-type']).toContain('application/x-protobuf');
    const all = calls();
    expect(all).toHaveLength(2);
    const chat = FIXTURES.openaiChat.ok;
    const converse = FIXTURES.bedrockConverse.ok;
    expectCall(
      all.find((c) => c.provider === 'openai'),
      'openai',
      chat.model,
      chat.tokens,
    );
    expectCall(
      all.find((c) => c.provider === 'bedrock'),
      'bedrock',
      converse.model,
      converse.tokens,
    );
    expect(all.every((c) => c.service === 'cjs-app')).toBe(true);
  });

  test('OTEL_EXPORTER_OTLP_PROTOCOL=grpc: spans reach an OTLP/gRPC receiver, headers as gRPC metadata', async () => {
    // A real gRPC server (grpc-js) serving the collector's TraceService/Export; the request bytes
    // are the same ExportTraceServiceRequest the HTTP receivers decode.
    const got: { metadata: grpc.Metadata; spans: SpanInput[] }[] = [];
    const server = new grpc.Server();
    const raw = (b: Buffer) => b;
    server.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, reply: grpc.sendUnaryData<Buffer>) => {
          got.push({ metadata: call.metadata, spans: decodeTraces(call.request, 'protobuf').spans });
          reply(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse: all accepted
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    try {
      const { done } = run(['-r', '@tokenmeter/instrumentation/register', app('cjs-app.cjs')], {
        OTEL_SERVICE_NAME: 'cjs-grpc',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      });
      const result = await done;
      expect(result.code, result.out).toBe(0);
      expect(result.out).not.toContain('TokenmeterWarning');
      expect(received).toHaveLength(0); // nothing went to the HTTP receiver
      expect(got.length).toBeGreaterThan(0);
      expect(got[0]?.metadata.get('authorization')).toEqual(['Bearer tm-test-key']);
      const all = got
        .flatMap((g) => g.spans)
        .map(normalizeSpan)
        .filter((c): c is AiCall => c !== null);
      expect(all).toHaveLength(2);
      expect(all.every((c) => c.service === 'cjs-grpc')).toBe(true);
      const chat = FIXTURES.openaiChat.ok;
      expectCall(
        all.find((c) => c.provider === 'openai'),
        'openai',
        chat.model,
        chat.tokens,
      );
    } finally {
      server.forceShutdown();
    }
  });

  test('an unknown OTLP protocol: one clear warning, spans still exported (http/protobuf)', async () => {
    const { done } = run(['-r', '@tokenmeter/instrumentation/register', app('cjs-app.cjs')], {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml',
    });
    const result = await done;
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('TokenmeterWarning: unknown OTLP protocol http/xml');
    expect(result.out.match(/TokenmeterWarning/g)).toHaveLength(1);
    expect(received[0]?.headers['content-type']).toContain('application/x-protobuf');
    expect(calls()).toHaveLength(2);
  });

  test('the app runs its own provider: no second one, our spans go through the app’s', async () => {
    const { done } = run(['--import', '@tokenmeter/instrumentation/register', app('own-provider.mjs')], {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    const result = await done;
    expect(result.code, result.out).toBe(0);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]?.resource['service.name']).toBe('own-provider-app');
  });

  test('SIGTERM: spans are flushed and the process still ends by the signal', async () => {
    const { child, done } = run(['--import', '@tokenmeter/instrumentation/register', app('esm-app.mjs')], {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      WAIT_FOR_SIGNAL: '1',
    });
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        if (String(d).includes('ready')) resolve();
      };
      child.stdout?.on('data', onData);
    });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.signal).toBe('SIGTERM');
    expect(calls()).toHaveLength(2);
  });

  test('OTEL_METRICS_EXPORTER=otlp: token usage, duration (convention buckets) and cost metrics', async () => {
    const { done } = run(['--import', '@tokenmeter/instrumentation/register', app('esm-app.mjs')], {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'otlp',
    });
    expect((await done).code).toBe(0);
    const all = metricBodies.join('\n');
    expect(all).toContain('"gen_ai.client.token.usage"');
    expect(all).toContain('"gen_ai.client.operation.duration"');
    expect(all).toContain('"tokenmeter.client.cost"');
    expect(all).toContain('"explicitBounds":[0.01,0.02,0.04');
  });

  test('OTEL_SDK_DISABLED=true: nothing is hooked or sent', async () => {
    const { done } = run(['--import', '@tokenmeter/instrumentation/register', app('esm-app.mjs')], {
      OTEL_SDK_DISABLED: 'true',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect((await done).code).toBe(0);
    expect(received).toHaveLength(0);
    expect((replay.requests[0]?.body as any)?.stream_options).toBeUndefined();
  });
});
