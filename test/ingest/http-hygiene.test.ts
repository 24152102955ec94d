import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestService } from '../support/inprocess.ts';
import { appRoutes } from '../support/routes.ts';

/**
 * Acceptance (issue 18, HTTP hygiene), against the real service on real chdb: every client
 * error is a 4xx with a reason, on every route (malformed percent-encoding in a path
 * parameter, dates out of ClickHouse's range, bad JSON, bodies over the limit, lone
 * surrogates); only the browser app's own files are served, with their types; every answer
 * says nosniff; a slow body or slow headers are cut with 408 within the configured bound.
 */
type Service = Awaited<ReturnType<typeof startTestService>>;
let svc: Service;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

beforeAll(async () => {
  svc = await startTestService('hygiene', {
    TOKENMETER_RATE_LIMIT_RPS: '0',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    TOKENMETER_EVALUATE_INTERVAL_MS: '0',
    TOKENMETER_HEADERS_TIMEOUT_MS: '1500',
    TOKENMETER_REQUEST_TIMEOUT_MS: '3000',
  });
});
afterAll(async () => {
  await svc?.close();
});

interface Answer {
  status: number;
  error: unknown;
  nosniff: string | null;
  type: string | null;
}

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body,
  });
  const text = await res.text();
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    error = undefined;
  }
  return {
    status: res.status,
    error,
    nosniff: res.headers.get('x-content-type-options'),
    type: res.headers.get('content-type'),
  } satisfies Answer;
}

/** A 4xx with a reason, and nosniff. */
function expectRefused(what: string, a: Answer, status?: number): void {
  expect(a.status, `${what}: ${JSON.stringify(a)}`).toBeGreaterThanOrEqual(400);
  expect(a.status, `${what}: ${JSON.stringify(a)}`).toBeLessThan(500);
  if (status !== undefined) expect(a.status, `${what}: ${JSON.stringify(a)}`).toBe(status);
  expect(typeof a.error === 'string' && a.error.length > 0, `${what}: a reason`).toBe(true);
  expect(a.nosniff, what).toBe('nosniff');
}

describe('client errors are 4xx with a reason', () => {
  it('answers the requests of issue 18 with 4xx', async () => {
    expectRefused('bad percent-encoding', await send('GET', '/api/v1/usage/users/%ff'), 400);
    expectRefused('day 0000-00-00', await send('GET', '/api/v1/reconciliation?to=0000-00-00'), 400);
    expectRefused('days beyond DateTime', await send('GET', '/api/v1/export?from=0001-01-01&to=9999-12-31'), 400);
    const budget = { name: 'x'.repeat(70 * 1024), period: 'month', amountUsd: '10', mode: 'soft' };
    expectRefused('budget over 64 KB', await send('POST', '/api/v1/budgets', JSON.stringify(budget)), 413);
    const surrogate = '{"name":"cut \\ud83d","period":"month","amountUsd":"10","mode":"soft"}';
    const refused = await send('POST', '/api/v1/budgets', surrogate);
    expectRefused('budget with a lone surrogate', refused, 400);
    expect(refused.error).toMatch(/'name' is not valid Unicode/);
    expectRefused(
      'key with a lone surrogate',
      await send('POST', '/api/v1/keys', '{"tenant":"acme","role":"read","name":"\\udc00"}'),
      400,
    );
    // A surrogate pair (an emoji) is fine.
    const ok = await send('POST', '/api/v1/keys', '{"tenant":"acme","role":"read","name":"\\ud83d\\ude00"}');
    expect(ok.status).toBe(201);
  });

  it('answers hostile input on every route with a 4xx (or a success), never a 5xx, always nosniff', async () => {
    const routes = appRoutes(svc.server);
    expect(routes.length).toBeGreaterThan(30);
    const problems: string[] = [];
    const check = async (what: string, a: Promise<Answer>, want?: 'client' | number) => {
      const r = await a;
      if (r.status >= 500) problems.push(`${what} → ${r.status} ${JSON.stringify(r.error)}`);
      if (r.nosniff !== 'nosniff') problems.push(`${what} → no nosniff`);
      if (want === 'client' && (r.status < 400 || typeof r.error !== 'string'))
        problems.push(`${what} → ${r.status} (a 4xx with a reason expected)`);
      if (typeof want === 'number' && r.status !== want) problems.push(`${what} → ${r.status} (${want} expected)`);
    };
    const dates = [
      'from=0001-01-01&to=9999-12-31',
      'to=0000-00-00',
      'from=1969-12-31',
      'to=2106-02-08',
      'from=2026-02-30',
      'from=%ff',
      'from=9999999999999',
    ];
    for (const route of routes) {
      const [method, pattern] = route.split(' ') as [string, string];
      if (pattern === '/v1/traces') continue; // OTLP has its own suite (fuzz.test.ts)
      const params = pattern.match(/:\w+/g) ?? [];
      const path = (fill: string) => pattern.replace(/:\w+/g, fill);
      // Malformed percent-encoding in each path parameter: the path cannot be read.
      if (params.length > 0) await check(`${method} ${path('%ff')}`, send(method, path('%ff')), 400);
      const plain = path('x1');
      if (method === 'GET') {
        for (const q of dates) await check(`${method} ${plain}?${q}`, send(method, `${plain}?${q}`));
      } else {
        const body = method === 'DELETE' ? undefined : '{';
        if (body) await check(`${method} ${plain} bad JSON`, send(method, plain, body), 400);
        if (body) {
          const big = JSON.stringify({ name: 'x'.repeat(300 * 1024) });
          await check(`${method} ${plain} 300 KB`, send(method, plain, big), 413);
          for (const odd of ['[]', 'null', '"x"', '7', '{"name":[1,{"a":null}],"tenant":{}}', '[{"sql":"SELECT 1"}]'])
            await check(`${method} ${plain} ${odd}`, send(method, plain, odd));
          const deep = '['.repeat(7000) + ']'.repeat(7000);
          await check(`${method} ${plain} nested 7000 deep`, send(method, plain, deep));
          await check(`${method} ${plain} lone surrogate`, send(method, plain, '{"name":"\\ud800"}'), 400);
          await check(`${method} ${plain} lone surrogate key`, send(method, plain, '{"\\ud800":"x"}'), 400);
          await check(
            `${method} ${plain} latin1`,
            send(method, plain, '{}', { 'content-type': 'application/json; charset=latin1' }),
            415,
          );
        }
      }
    }
    // The dates every report reads are checked against what ClickHouse can hold.
    for (const path of ['/api/v1/usage/summary', '/api/v1/usage/daily', '/api/v1/export', '/api/v1/reconciliation'])
      for (const q of ['from=0001-01-01&to=9999-12-31', 'to=0000-00-00', 'from=1969-12-31', 'to=2106-02-08'])
        await check(`GET ${path}?${q}`, send('GET', `${path}?${q}`), 'client');
    expect(problems).toEqual([]);
  }, 300_000);
});

describe('static files', () => {
  it('serves only the app files, with their types, and nosniff everywhere', async () => {
    for (const path of ['/app.js.map', '/app.css.map', '/types/main.d.ts', '/types/.tsbuildinfo', '/types/']) {
      const res = await fetch(`${svc.url}${path}`);
      await res.arrayBuffer();
      expect(res.status, path).toBe(404);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    const types: Record<string, RegExp> = {
      '/': /^text\/html; charset=utf-8$/,
      '/index.html': /^text\/html; charset=utf-8$/,
      '/app.js': /^text\/javascript; charset=utf-8$/,
      '/app.css': /^text\/css; charset=utf-8$/,
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await fetch(`${svc.url}${path}`);
      // Every body read: an unread app.js leaves its answer half-written (backpressure), and
      // the server's close then waits (about a minute) for undici to drop that connection.
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(type);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect(await (await fetch(`${svc.url}/app.js`)).text()).not.toMatch(/sourceMappingURL/);
    for (const path of ['/healthz', '/readyz', '/api/v1/budgets', '/nope']) {
      const res = await fetch(`${svc.url}${path}`, { headers: auth });
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});

/** Send `head` at once, then `drip` one byte every `everyMs`; what the server answers, and when. */
function slowRequest(head: string, drip: string, everyMs: number): Promise<{ answer: string; afterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(svc.port, '127.0.0.1');
    let answer = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (i < drip.length && !socket.destroyed) socket.write(drip[i++]!);
      }, everyMs);
    });
    socket.on('data', (b) => {
      answer += b.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, afterMs: performance.now() - started });
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after 30 s; got ${JSON.stringify(answer)}`));
    }, 30_000);
  });
}

describe('slow clients', () => {
  // A byte every 500 ms keeps the connection busy (no idle timeout would fire); a byte every
  // 5 s is the case.
  it.each([500, 5000])(
    'cuts an authenticated body sent a byte every %i ms with 408 within the request timeout (+1 s check)',
    async (everyMs) => {
      const { key } = await svc.keyStore.create({ tenant: 'acme', role: 'ingest', name: 'slow' }, 'test');
      const head =
        `POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
      const { answer, afterMs } = await slowRequest(head, '"resourceSpans":[]'.padEnd(999, ' '), everyMs);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(afterMs).toBeGreaterThan(2500);
      expect(afterMs).toBeLessThan(3000 + 1500);
      console.log(JSON.stringify({ slowBody: { everyMs, requestTimeoutMs: 3000, cutAfterMs: Math.round(afterMs) } }));
    },
  );

  it('cuts slow headers with 408 within the headers timeout (+1 s check)', async () => {
    const { answer, afterMs } = await slowRequest(
      'GET /healthz HTTP/1.1\r\nHost: x\r\n',
      'X-Slow: ' + 'a'.repeat(100),
      300,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(1500 + 1500);
  });

  it('does not cut a request whose body arrived, however long its answer takes', async () => {
    const started = performance.now();
    const res = await fetch(`${svc.url}/api/v1/query`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT sum(sleepEachRow(1)) AS s FROM numbers(4) SETTINGS max_block_size = 1' }),
    });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThan(3000);
  });
});
