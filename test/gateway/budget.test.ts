/**
 * Hard budgets in the gateway: 50 concurrent calls against a budget that fits 10 — the calls in
 * flight at the crossing go through, the rest are refused in OpenAI's own error shape, and the
 * spend passes the budget by at most one call; and with the store down, calls still go through
 * and their rows arrive once it is back (spooled). The service talks HTTP to ClickHouse through
 * a fault proxy (test/support), as in production.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { parseUsd } from '../../instrumentation/src/prices/engine.js';
import { FIXTURES } from '../replay/fixtures.js';
import { createKey } from '../web/support.js';
import { ADMIN_KEY, engineCost, PROVIDER_KEY, rowsOf, sql, useGateway } from './harness.js';

const f = FIXTURES.openaiChat.ok;
/** n calls of the fixture, as a USD amount. */
const calls = (n: bigint) => {
  const v = (parseUsd(engineCost('openai', f.model, f.tokens)) * n).toString().padStart(13, '0');
  return `${v.slice(0, -12)}.${v.slice(-12)}`;
};
// Every user without a budget of their own may spend 3 calls a month (hard).
const env = useGateway(
  'budget',
  {
    TOKENMETER_ENFORCEMENT_CACHE_MS: '60000',
    TOKENMETER_DEFAULT_USER_BUDGET_USD: calls(3n),
    TOKENMETER_DEFAULT_USER_BUDGET_MODE: 'hard',
  },
  { faults: true },
);
const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

function client(user: string, requestId: string, scenario?: string, key = env.key) {
  return new OpenAI({
    apiKey: PROVIDER_KEY,
    baseURL: `${env.gw}/openai/v1`,
    maxRetries: 0,
    defaultHeaders: {
      'x-tokenmeter-key': key,
      'x-tokenmeter-user': user,
      'x-tokenmeter-request-id': requestId,
      ...(scenario ? { 'x-replay-scenario': scenario } : {}),
    },
  });
}

describe('gateway: hard budgets', () => {
  it('50 concurrent calls against a budget that fits 10: 10 go through, 40 are refused, spend within one call', async () => {
    const cost = engineCost('openai', f.model, f.tokens);
    const amountUsd = calls(10n);
    const created = await fetch(`${env.svc.url}/api/v1/budgets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant: 'acme',
        name: 'carol hard',
        scope: { user: 'carol' },
        period: 'month',
        amountUsd,
        mode: 'hard',
      }),
    });
    expect(created.status).toBe(201);
    // Another user's call: the model's cost is learnt, carol's budget is untouched.
    await client('dave', 'warm').chat.completions.create({ model: f.model, messages });
    await rowsOf(env.svc, 'warm');

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client('carol', 'burst', 'slow-stream')
          .chat.completions.create({ model: f.model, messages })
          .then(
            () => 'ok' as const,
            (e: InstanceType<typeof OpenAI.APIError>) => {
              expect(e).toBeInstanceOf(OpenAI.RateLimitError);
              expect(e.status).toBe(429);
              expect((e.error as { type?: string }).type).toBe('insufficient_quota');
              expect(e.message).toMatch(/budget exceeded: user=carol/);
              return `refused ${i}`;
            },
          ),
      ),
    );
    const ok = results.filter((r) => r === 'ok').length;
    expect(ok).toBe(10);
    // The refused never reached the provider.
    expect(
      env.replay.requests.filter((r) => (r.headers['x-replay-scenario'] as string) === 'slow-stream'),
    ).toHaveLength(10);
    const rows = await rowsOf(env.svc, 'burst', 50);
    const spent = rows.filter((r) => r.status === 'ok').reduce((s, r) => s + parseUsd(r.cost_usd!), 0n);
    expect(spent).toBeLessThanOrEqual(parseUsd(amountUsd) + parseUsd(cost));
    expect(rows.filter((r) => r.error_type === 'BudgetExceededError')).toHaveLength(40);
    // Later calls are refused too, before leaving.
    const late = await client('carol', 'late')
      .chat.completions.create({ model: f.model, messages })
      .catch((e: Error) => e);
    expect(late).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('the default per-user budget (hard): a user without a budget of their own gets 3 calls, the 4th is refused', async () => {
    const results: string[] = [];
    for (let i = 0; i < 4; i++) {
      results.push(
        await client('frank', 'frank')
          .chat.completions.create({ model: f.model, messages })
          .then(
            () => 'ok',
            (e: Error) => e.message,
          ),
      );
    }
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(results[3]).toMatch(/budget exceeded: user=frank spent .* USD of .* USD \(tokenmeter budget default-user/);
  });

  it("store hung before a tenant's budgets were ever read: its calls wait for that fetch 2 s at most in all, not each", async () => {
    const proxy = env.proxy!;
    const key = await createKey(env.svc, 'initech', 'ingest');
    // The key is resolved (and cached) while the store is up, by a request that reads no budgets.
    await fetch(`${env.gw}/openai/v1/models`, {
      headers: { authorization: `Bearer ${PROVIDER_KEY}`, 'x-tokenmeter-key': key },
    });
    await proxy.set('stall');
    try {
      const started = Date.now();
      for (let i = 0; i < 4; i++) {
        const res = await client('ivan', `hung-${i}`, undefined, key).chat.completions.create({
          model: f.model,
          messages,
        });
        expect(res.choices[0]!.message.content).toBe(f.text);
      }
      // The first call waited for the hung fetch (2 s); the other three did not wait again (6 s more before).
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await proxy.set('pass');
    }
    expect(await rowsOf(env.svc, 'hung-3')).toHaveLength(1);
  });

  it('store down: the call still goes through, and its row arrives once the store is back', async () => {
    const proxy = env.proxy!;
    // The key is resolved (and cached) while the store is up.
    await client('erin', 'before-outage').chat.completions.create({ model: f.model, messages });
    await rowsOf(env.svc, 'before-outage');
    await proxy.set('refuse');
    try {
      const res = await client('erin', 'during-outage').chat.completions.create({ model: f.model, messages });
      expect(res.choices[0]!.message.content).toBe(f.text);
      // Its row waits in the spool: the insert is failing.
      await expect.poll(() => env.svc.writer.failing().error, { timeout: 10_000 }).toBeTruthy();
    } finally {
      await proxy.set('pass');
    }
    const [row] = await rowsOf(env.svc, 'during-outage');
    expect(row!.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
    const n = await sql<{ n: string }>(env.svc, `SELECT count() AS n FROM ai_calls WHERE request_id = 'during-outage'`);
    expect(Number(n[0]!.n)).toBe(1);
  });
});
