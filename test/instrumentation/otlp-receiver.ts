/**
 * A real OTLP/HTTP trace endpoint for tests that run an app in another process: it decodes
 * each export (protobuf or JSON) with the ingest service's decoder and keeps the spans.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraces, encodingOf } from '../../ingest/src/otlp/decode.js';
import { normalizeSpan } from '../../instrumentation/src/normalize/normalize.js';
import type { AiCall, SpanInput } from '../../instrumentation/src/normalize/types.js';

export interface OtlpReceiver {
  url: string;
  spans(): SpanInput[];
  /** Our spans, normalised as the ingest service would (delegated spans are never calls). */
  calls(): AiCall[];
  /** Resolves once `n` calls have arrived (or rejects after `timeoutMs`). */
  waitForCalls(n: number, timeoutMs?: number): Promise<AiCall[]>;
  reset(): void;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let spans: SpanInput[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const encoding = encodingOf(req.headers['content-type']) ?? 'protobuf';
        spans.push(...decodeTraces(Buffer.concat(chunks), encoding).spans);
      }
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const calls = () => spans.map(normalizeSpan).filter((c): c is AiCall => c !== null);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    calls,
    async waitForCalls(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (calls().length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} calls, got ${calls().length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return calls();
    },
    reset() {
      spans = [];
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
