/**
 * Callers without an SDK: a Python script using only the standard library (Debian's python3)
 * and curl, through the gateway; their rows carry the headers' attribution. And the provider
 * key never lands anywhere but the upstream: not in the logs (captured at debug level), the
 * rows, the spans, the gateway's own error bodies, or the data directory.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../replay/fixtures.js';
import { engineCost, PROVIDER_KEY, rowsOf, sql, useGateway } from './harness.js';

const run = promisify(execFile);
// The gateway on its own port and under /gateway of the service's port.
const env = useGateway('clients', { TOKENMETER_GATEWAY_PATH: '/gateway' });
const f = FIXTURES.openaiChat.ok;
const SECRET = 'GATEWAYSECRET';

describe('gateway: callers without an SDK', () => {
  it('a Python standard-library script: plain and stream, rows with its attribution', async () => {
    const script = fileURLToPath(new URL('./client.py', import.meta.url));
    const { stdout } = await run('python3', [script, env.gw, env.key, PROVIDER_KEY, 'py-1']);
    expect(JSON.parse(stdout)).toEqual({ plain: f.text, stream: f.text });
    const rows = await rowsOf(env.svc, 'py-1', 2);
    for (const row of rows) {
      expect(row).toMatchObject({
        tenant: 'acme',
        user_id: 'py-user',
        team: 'data',
        feature: 'notebook',
        properties: { runtime: 'python' },
        input_tokens: 19,
        output_tokens: 8,
      });
      expect(row.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
    }
  });

  it("curl: a plain call (own port) and a stream (-N, under the service port's /gateway), rows with the attribution", async () => {
    const body = JSON.stringify({ model: f.model, messages: [{ role: 'user', content: 'Hi' }] });
    const headers = [
      `authorization: Bearer ${PROVIDER_KEY}`,
      'content-type: application/json',
      `x-tokenmeter-key: ${env.key}`,
      'x-tokenmeter-user: curl-user',
      'x-tokenmeter-session: shell-7',
      'x-tokenmeter-request-id: curl-1',
    ].flatMap((h) => ['-H', h]);
    const url = `${env.gw}/openai/v1/chat/completions`;
    const plain = await run('curl', ['-sS', url, ...headers, '-d', body]);
    expect(JSON.parse(plain.stdout).choices[0].message.content).toBe(f.text);
    const prefixed = `${env.svc.url}/gateway/openai/v1/chat/completions`;
    const stream = await run('curl', ['-sSN', prefixed, ...headers, '-d', body.replace('{', '{"stream":true,')]);
    expect(stream.stdout).toContain('data: [DONE]');
    expect(stream.stdout).not.toContain('"usage"');
    const rows = await rowsOf(env.svc, 'curl-1', 2);
    expect(rows.map((r) => [r.user_id, r.session_id, Number(r.output_tokens)])).toEqual([
      ['curl-user', 'shell-7', 8],
      ['curl-user', 'shell-7', 8],
    ]);
  });

  it('the provider key is in no log, row, span, error body or file of the data directory', async () => {
    // Paths that end in the gateway's own answers, and a call the provider refuses.
    const headers = {
      authorization: `Bearer ${PROVIDER_KEY}`,
      'x-api-key': PROVIDER_KEY,
      'content-type': 'application/json',
    };
    const bodies: string[] = [];
    for (const [path, extra] of [
      ['/openai/v1/chat/completions', {}],
      ['/anthropic/v1/messages', { 'x-tokenmeter-key': 'not-a-key' }],
      ['/nowhere/v1/chat/completions', { 'x-tokenmeter-key': env.key }],
      [
        '/openai/v1/chat/completions',
        { 'x-tokenmeter-key': env.key, 'x-replay-scenario': 'error-500', 'x-tokenmeter-request-id': 'leak-1' },
      ],
    ] as const) {
      const res = await fetch(`${env.gw}${path}`, {
        method: 'POST',
        headers: { ...headers, ...extra },
        body: JSON.stringify({ model: f.model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      bodies.push(await res.text());
    }
    await rowsOf(env.svc, 'leak-1');
    // It did reach the upstream (so a copy anywhere else would be found by the same search).
    expect(JSON.stringify(env.replay.requests.map((r) => r.headers))).toContain(SECRET);
    for (const b of bodies) expect(b).not.toContain(SECRET);
    expect(env.logs().length).toBeGreaterThan(1000);
    expect(env.logs()).not.toContain(SECRET);
    for (const table of ['ai_calls', 'otel_traces']) {
      const [hit] = await sql<{ n: string; all: string }>(
        env.svc,
        `SELECT countIf(position(toString(tuple(*)), '${SECRET}') > 0) AS n, count() AS all FROM ${table}`,
      );
      expect(Number(hit!.all), table).toBeGreaterThan(0);
      expect(Number(hit!.n), table).toBe(0);
    }
    // Every file the service wrote (spool, ClickHouse parts, logs), as raw bytes.
    const files = walk(env.dataDir);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(bytesOf(file).includes(SECRET), file).toBe(false);
  });
});

/** ClickHouse's temporary parts come and go while we read: a file gone is skipped. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of gone(() => readdirSync(dir), [])) {
    const p = join(dir, name);
    const st = gone(() => statSync(p), undefined);
    if (st?.isDirectory()) out.push(...walk(p));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

function bytesOf(file: string): Buffer {
  return gone(() => readFileSync(file), Buffer.alloc(0));
}

function gone<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
}
