import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKeyResolver, limitedResolver } from '../http/auth.js';
import { RateLimiter } from '../http/rate-limit.js';
import { createMetrics } from '../metrics.js';
import type { GatewayBudgets } from './budget.js';
import { readGatewayConfig } from './config.js';
import { Gateway } from './proxy.js';

const ADMIN = 'rate-limit-test-admin-key-0123456789';
const OTHER = 'rate-limit-test-ingest-key-9876543210';

const listen = async (s: Server) => {
  s.listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

describe('the gateway rate-limits each tokenmeter key', () => {
  let upstreamHits = 0;
  const upstream = createServer((req, res) => {
    upstreamHits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
  });
  const metrics = createMetrics();
  let server: Server;
  let gw: string;

  beforeAll(async () => {
    const up = await listen(upstream);
    const gateway = new Gateway({
      config: readGatewayConfig({
        TOKENMETER_GATEWAY_PORT: '0',
        TOKENMETER_GATEWAY_ROUTES: `openai=${up},anthropic=${up}`,
      }),
      // The service's own resolver chain: the admin key, then (instead of the ClickHouse key table) one ingest key.
      keys: limitedResolver(
        adminKeyResolver(ADMIN, {
          resolve: async (s) => (s === OTHER ? { keyId: 'k-other', role: 'ingest', tenant: 'acme' } : undefined),
        }),
        // A token back every 100 s: no refill between the test's requests, however slow the machine.
        new RateLimiter(0.01, 2),
      ),
      tracer: trace.getTracer('rate-limit-test'),
      // Not reached: a refused or passed-through request is never metered.
      budgets: undefined as unknown as GatewayBudgets,
      metrics,
      log: pino({ level: 'silent' }),
    });
    server = createServer((req, res) => gateway.handle(req, res, req.url ?? '/'));
    gw = await listen(server);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => upstream.close(r));
  });

  it('answers 429 in the provider shape with Retry-After once the burst is spent, per key', async () => {
    const openai = (key: string) =>
      new OpenAI({
        apiKey: 'sk-test',
        baseURL: `${gw}/openai/v1`,
        maxRetries: 0,
        defaultHeaders: { 'x-tokenmeter-key': key },
      });
    await openai(ADMIN).models.list();
    await openai(ADMIN).models.list();
    expect(upstreamHits).toBe(2);

    const err = await openai(ADMIN)
      .models.list()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.type).toBe('requests');
    expect(e.code).toBe('tokenmeter_rate_limited');
    const retryAfter = Number(e.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(100);
    expect(e.headers.get('x-should-retry')).toBeNull();

    const anthropic = await fetch(`${gw}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-tokenmeter-key': ADMIN, 'content-type': 'application/json' },
      body: '{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[]}',
    });
    expect(anthropic.status).toBe(429);
    expect(((await anthropic.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    expect(upstreamHits).toBe(2);

    // Another key has a bucket of its own.
    await openai(OTHER).models.list();
    expect(upstreamHits).toBe(3);
    expect((await metrics.rateLimited.get()).values[0]?.value).toBe(2);
    const refused = (await metrics.gatewayRefused.get()).values.find((v) => v.labels.reason === 'rate_limited');
    expect(refused?.value).toBe(2);
  });
});
