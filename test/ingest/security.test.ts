import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import type { Role } from '../../ingest/src/http/auth.ts';
import { RateLimiter } from '../../ingest/src/http/rate-limit.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';
import { appRoutes } from '../support/routes.ts';
import { makeCallSpans, querySql } from '../support/spans.ts';

/**
 * Acceptance: every endpoint × {no key, wrong key, each role, another tenant's key}
 * gets the expected status and never another tenant's data; SQL-injection strings go
 * through every query parameter and path parameter.
 *
 * The table below must name every route the app serves: the routes are read from the
 * express router, so a new endpoint without a row fails this test until it gets one.
 */

type Need = Role | 'public';
interface Row {
  need: Need;
  /** Only an operator key (tenant '*') may: a tenant-bound key with the role gets 403. */
  operator?: boolean;
  /** The path to call (route parameters filled in) and a body. */
  path?: string;
  body?: unknown;
  /** Query parameters the endpoint reads: each gets every injection string. */
  params?: string[];
  /** Statuses an allowed caller may get (default: anything but 401/403/5xx). */
  allowed?: number[];
}

const MATRIX: Record<string, Row> = {
  'GET /healthz': { need: 'public' },
  'GET /readyz': { need: 'public' },
  'GET /metrics': { need: 'read', operator: true },
  'POST /v1/traces': { need: 'ingest' },
  'POST /api/v1/keys': { need: 'admin', body: { role: 'read', name: 'matrix' } },
  'GET /api/v1/keys': { need: 'admin', params: ['tenant'] },
  'DELETE /api/v1/keys/:id': { need: 'admin', path: '/api/v1/keys/key_00000000000000aa', allowed: [404] },
  'POST /api/v1/query': { need: 'admin', operator: true, body: { sql: 'SELECT 1' } },
  'GET /api/v1/tenants': { need: 'user' },
  'GET /api/v1/budgets/enforcement': { need: 'ingest' },
  'POST /api/v1/budgets/preview': {
    need: 'admin',
    body: { name: 'matrix', period: 'month', amountUsd: '10', mode: 'soft' },
  },
  'GET /api/v1/budgets': { need: 'read', params: ['tenant'] },
  'GET /api/v1/budgets/:id': { need: 'read', path: '/api/v1/budgets/nope', allowed: [404, 400] },
  'POST /api/v1/budgets': { need: 'admin', body: { name: 'matrix', period: 'month', amountUsd: '10', mode: 'soft' } },
  'PUT /api/v1/budgets/:id': { need: 'admin', path: '/api/v1/budgets/nope', body: { name: 'x' }, allowed: [404, 400] },
  'DELETE /api/v1/budgets/:id': { need: 'admin', path: '/api/v1/budgets/nope', allowed: [404, 400] },
  'GET /api/v1/usage/summary': { need: 'user', params: ['from', 'to', 'group_by', 'tenant', 'user', 'team', 'model'] },
  'GET /api/v1/usage/daily': { need: 'user', params: ['from', 'to', 'tenant', 'user', 'model'] },
  'GET /api/v1/usage/users/:id': { need: 'user', path: '/api/v1/usage/users/acme-secret-user', params: ['from', 'to'] },
  'GET /api/v1/usage/estimate': { need: 'user', params: ['model', 'input_tokens', 'output_tokens', 'provider'] },
  'GET /api/v1/usage/projection': { need: 'user', params: ['period', 'tenant', 'user'] },
  'GET /api/v1/export': { need: 'read', params: ['from', 'to', 'format', 'tenant'] },
  'GET /api/v1/alerts': { need: 'read', params: ['from', 'to', 'state', 'tenant'] },
  'GET /api/v1/advice': { need: 'read', params: ['days', 'min_usd', 'tenant'] },
  'GET /api/v1/prices': { need: 'admin' },
  // A tenant's admin key sets and removes its own tenant's prices (an empty body is a 400).
  'PUT /api/v1/prices': { need: 'admin', body: {}, allowed: [400] },
  'DELETE /api/v1/prices/:id': { need: 'admin', path: '/api/v1/prices/nope', allowed: [404] },
  'POST /api/v1/reprice': { need: 'admin', body: {} },
  'POST /api/v1/reconcile': { need: 'admin', operator: true, body: { date: '2026-11-01' } },
  'GET /api/v1/reconciliation': { need: 'read', params: ['from', 'to', 'provider', 'tenant'] },
  'POST /api/v1/users/forget': { need: 'admin', body: {} },
  'GET /api/v1/web/session': { need: 'user' },
  'GET /api/v1/dashboards': { need: 'user' },
  'GET /api/v1/dashboards/:uid': { need: 'user', path: '/api/v1/dashboards/tokenmeter-overview', allowed: [200, 404] },
  'GET /api/v1/dashboards/:uid/data': {
    need: 'user',
    path: '/api/v1/dashboards/tokenmeter-overview/data',
    params: ['from', 'to', 'panel', 'var-tenant', 'var-service'],
  },
  // Panel 2 of the overview ("Spend today") is money: a user key (usage without money) gets 403.
  'GET /api/v1/dashboards/:uid/panels/:id/data': {
    need: 'read',
    path: '/api/v1/dashboards/tokenmeter-overview/panels/2/data',
    params: ['from', 'to', 'var-tenant', 'var-service', 'var-model', 'maxDataPoints'],
  },
  'GET /api/v1/dashboards/:uid/variables/:name/options': {
    need: 'user',
    path: '/api/v1/dashboards/tokenmeter-overview/variables/service/options',
    params: ['from', 'to', 'var-tenant'],
  },
  'GET /api/v1/calls': { need: 'user', params: ['from', 'to', 'service', 'model', 'user', 'tenant', 'limit'] },
  'GET /api/v1/calls/:traceId/:spanId': { need: 'user', path: '/api/v1/calls/abc/def', allowed: [400, 404] },
  'GET /': { need: 'public', allowed: [200, 503] },
  // The browser app's files (only these: no source maps, no type declarations).
  'GET /index.html': { need: 'public', allowed: [200] },
  'GET /app.js': { need: 'public', allowed: [200] },
  'GET /app.css': { need: 'public', allowed: [200] },
};

const ALLOWED: Record<Role, readonly Role[]> = {
  ingest: ['ingest', 'admin'],
  read: ['read', 'admin'],
  user: ['user', 'read', 'admin'],
  admin: ['admin'],
};

const INJECTIONS = [
  "' OR 1=1 --",
  "acme' OR tenant != '",
  "x'); DROP TABLE ai_calls; --",
  '1 UNION ALL SELECT tenant, user_id FROM ai_calls',
  '{tenant:String}',
  "\\' OR ''='",
  'acme',
  '*',
  '%',
  '../../etc/passwd',
  '2026-01-01 00:00:00\u0000',
  "') FORMAT JSON SETTINGS readonly=0 --",
];

const ADMIN = 'matrix-bootstrap-key';
const SECRET = 'acme-secret';
/** Markers that exist only in acme's stored data (a path parameter may echo SECRET itself). */
const LEAKS = [`${SECRET}-svc`, `${SECRET}-budget`, `${SECRET}-key`];
const leaks = (text: string) => LEAKS.some((m) => text.includes(m));
let dir: string;
let running: Running;
const keys: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-security-'));
  running = await startServer(
    readConfig({
      TOKENMETER_DATA_DIR: dir,
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_BATCH_MAX_DELAY_MS: '5',
      TOKENMETER_RATE_LIMIT_RPS: '0',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
    }),
  );
  for (const tenant of ['acme', 'globex']) {
    for (const role of ['ingest', 'read', 'user', 'admin'] as const) {
      const name = tenant === 'acme' ? `${SECRET}-key-${role}` : `${tenant}-${role}`;
      const made = await running.keyStore.create({ tenant, role, name }, 'test');
      keys[`${tenant}:${role}`] = made.key;
    }
  }
  // acme's data, marked so a leak is visible in any body: service, user, model names.
  const made = makeCallSpans({
    run: 21,
    from: 0,
    count: 40,
    service: `${SECRET}-svc`,
    startMs: Date.now() - 3_600_000,
  });
  for (const s of made.spans) (s.attributes as Record<string, unknown>)['user.id'] = `${SECRET}-user`;
  const res = await fetch(`${running.url}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys['acme:ingest']}`, 'content-type': 'application/x-protobuf' },
    body: Buffer.from(ProtobufTraceSerializer.serializeRequest(made.spans)!),
  });
  expect(res.status).toBe(200);
  const budget = await fetch(`${running.url}/api/v1/budgets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys['acme:admin']}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `${SECRET}-budget`, period: 'month', amountUsd: '5', mode: 'soft' }),
  });
  expect(budget.status).toBeLessThan(300);
});

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CALLERS = [
  'none',
  'wrong',
  'acme:ingest',
  'acme:read',
  'acme:user',
  'acme:admin',
  'globex:ingest',
  'globex:read',
  'globex:user',
  'globex:admin',
  'operator',
] as const;
type Caller = (typeof CALLERS)[number];

function auth(caller: Caller): Record<string, string> {
  if (caller === 'none') return {};
  if (caller === 'wrong') return { authorization: 'Bearer tm_this-key-does-not-exist' };
  if (caller === 'operator') return { authorization: `Bearer ${ADMIN}` };
  return { authorization: `Bearer ${keys[caller]}` };
}

function expected(row: Row, caller: Caller): 'ok' | 401 | 403 {
  if (row.need === 'public') return 'ok';
  if (caller === 'none' || caller === 'wrong') return 401;
  const role: Role = caller === 'operator' ? 'admin' : (caller.split(':')[1] as Role);
  if (!ALLOWED[row.need].includes(role)) return 403;
  if (row.operator && caller !== 'operator') return 403;
  return 'ok';
}

async function call(route: string, row: Row, caller: Caller, query = '') {
  const [method, pattern] = route.split(' ') as [string, string];
  const path = (row.path ?? pattern) + query;
  let body: BodyInit | undefined;
  const headers: Record<string, string> = { ...auth(caller) };
  if (route === 'POST /v1/traces') {
    headers['content-type'] = 'application/x-protobuf';
    body = new Uint8Array(0);
  } else if (method !== 'GET' && method !== 'DELETE') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(row.body ?? {});
  }
  const res = await fetch(`${running.url}${path}`, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

describe('security matrix', () => {
  it('has a row for every route the app serves (a new endpoint needs one)', () => {
    const routes = appRoutes(running.server);
    expect(routes.filter((r) => !(r in MATRIX))).toEqual([]);
  });

  it('answers every endpoint × caller as expected, and never with another tenant’s data', async () => {
    const routes = appRoutes(running.server).filter((r) => r in MATRIX);
    const table: Record<string, Record<string, number>> = {};
    const wrong: string[] = [];
    for (const route of routes) {
      const row = MATRIX[route]!;
      table[route] = {};
      for (const caller of CALLERS) {
        const { status, text } = await call(route, row, caller);
        table[route]![caller] = status;
        const want = expected(row, caller);
        const ok =
          want === 'ok'
            ? status < 500 &&
              status !== 401 &&
              status !== 403 &&
              (!row.allowed || row.allowed.includes(status) || status < 300)
            : status === want;
        if (!ok) wrong.push(`${route} as ${caller}: ${status} (expected ${want}) ${text.slice(0, 120)}`);
        // Another tenant's key (or no key) never sees acme's data.
        if ((caller.startsWith('globex') || caller === 'none' || caller === 'wrong') && leaks(text)) {
          wrong.push(`${route} as ${caller} leaked acme data: ${text.slice(0, 200)}`);
        }
      }
    }
    console.log(JSON.stringify({ securityMatrix: { routes: routes.length, callers: CALLERS.length, table } }));
    expect(wrong).toEqual([]);
  }, 300_000);

  it('sends SQL-injection strings through every query and path parameter without a 5xx, a leak or damage', async () => {
    const problems: string[] = [];
    let requests = 0;
    for (const [route, row] of Object.entries(MATRIX)) {
      if (row.need === 'public') continue;
      const caller: Caller = row.operator ? 'operator' : `globex:${row.need === 'ingest' ? 'ingest' : 'admin'}`;
      for (const injection of INJECTIONS) {
        const tries: { path?: string; query: string }[] = (row.params ?? []).map((p) => ({
          query: `?${p}=${encodeURIComponent(injection)}`,
        }));
        if (route.includes(':')) {
          tries.push({ path: route.split(' ')[1]!.replace(/:[a-zA-Z]+/g, encodeURIComponent(injection)), query: '' });
        }
        for (const t of tries) {
          const { status, text } = await call(route, { ...row, path: t.path ?? row.path }, caller, t.query);
          requests++;
          if (status >= 500) problems.push(`${route}${t.query} → ${status} ${text.slice(0, 160)}`);
          if (caller !== 'operator' && leaks(text)) problems.push(`${route}${t.query} leaked acme data`);
        }
      }
    }
    // Nothing was damaged: acme's calls are all still there.
    const [row] = await querySql<{ n: string }>(
      running.url,
      ADMIN,
      "SELECT count() AS n FROM ai_calls WHERE tenant = 'acme'",
    );
    expect(Number(row!.n)).toBe(40);
    console.log(JSON.stringify({ sqlInjection: { requests, problems: problems.length } }));
    expect(problems).toEqual([]);
  }, 300_000);

  it("answers a user's usage only from the caller's tenant", async () => {
    const usage = async (caller: Caller) => {
      const res = await fetch(`${running.url}/api/v1/usage/users/${SECRET}-user`, { headers: auth(caller) });
      expect(res.status).toBe(200);
      return JSON.stringify(await res.json());
    };
    expect(await usage('acme:read')).toContain('"requests":40');
    expect(await usage('globex:read')).toContain('"requests":0');
  });

  it('takes the tenant of an ingested span from its key, never from the payload', async () => {
    const [row] = await querySql<{ tenants: string[] }>(
      running.url,
      ADMIN,
      'SELECT groupUniqArray(tenant) AS tenants FROM ai_calls',
    );
    expect(row!.tenants).toEqual(['acme']);
  });

  it('revokes a key at once, and stores only its hash', async () => {
    const made = await running.keyStore.create({ tenant: 'globex', role: 'read', name: 'short-lived' }, 'test');
    const headers = { authorization: `Bearer ${made.key}` };
    expect((await fetch(`${running.url}/api/v1/budgets`, { headers })).status).toBe(200);
    const revoked = await fetch(`${running.url}/api/v1/keys/${made.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys['globex:admin']}` },
    });
    expect(revoked.status).toBe(200);
    expect((await fetch(`${running.url}/api/v1/budgets`, { headers })).status).toBe(401);
    const stored = await querySql<{ key_hash: string }>(
      running.url,
      ADMIN,
      `SELECT key_hash FROM api_keys WHERE id = '${made.id}'`,
    );
    expect(stored.length).toBeGreaterThan(0);
    for (const r of stored) {
      expect(r.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.key_hash).not.toContain(made.key);
    }
    // A tenant admin cannot revoke another tenant's key.
    const cross = await fetch(`${running.url}/api/v1/keys/${made.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys['acme:admin']}` },
    });
    expect(cross.status).toBe(404);
  });

  it('limits the rate per key: 429 with Retry-After past the burst', () => {
    const limiter = new RateLimiter(10, 5);
    const t0 = 1000;
    const answers = Array.from({ length: 7 }, () => limiter.admit('k1', t0));
    expect(answers.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(answers[5]).toBeGreaterThan(0);
    // Another key has its own bucket; time refills.
    expect(limiter.admit('k2', t0)).toBe(0);
    expect(limiter.admit('k1', t0 + 200)).toBe(0);
  });
});
