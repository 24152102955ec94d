import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { usageContextMiddleware } from '../express.js';
import { setupTracing } from '../test-support/tracing.js';
import { CallBlockedError } from '../types.js';
import { startCall } from './call.js';
import { configure } from './config.js';
import { estimateTokens } from './estimate.js';
import { setCallGuard } from './guard.js';
import { redact } from './privacy.js';
import { runCall } from './run.js';
import { getUsageContext, setUsageContext, usageAttributes, withUsageContext } from './usage-context.js';

const tracing = setupTracing();
beforeEach(() => {
  tracing.reset();
  configure({});
  setCallGuard(undefined);
});

const spec = {
  provider: 'openai',
  operation: 'chat' as const,
  requestModel: 'gpt-4o-mini',
  isStreaming: false,
};
function recordOne(): Record<string, unknown> {
  const call = startCall(spec);
  call.usage = { inputTokens: 10, outputTokens: 5 };
  call.end();
  return tracing.ours().at(-1)?.attributes ?? {};
}

describe('usage context', () => {
  it('every span inside carries it; nested scopes add and override', () => {
    const attrs = withUsageContext({ tenant: 'acme', userId: 'u1', team: 'search' }, () =>
      withUsageContext({ feature: 'faq', team: 'ranking' }, recordOne),
    );
    expect(attrs).toMatchObject({
      'tokenmeter.tenant': 'acme',
      'user.id': 'u1',
      'tokenmeter.team': 'ranking',
      'tokenmeter.feature': 'faq',
    });
    expect(recordOne()['tokenmeter.tenant']).toBeUndefined();
  });

  it('custom properties: nested scopes add and override, setUsageContext adds later, outer scope unchanged', () => {
    let outer: Record<string, unknown> = {};
    const inner = withUsageContext({ properties: { plan: 'pro', arm: 'a' } }, () => {
      const attrs = withUsageContext({ properties: { arm: 'b', seats: 12, beta: true, gone: '' } }, () => {
        setUsageContext({ properties: { resource: 'doc-7' } });
        return recordOne();
      });
      outer = recordOne();
      return attrs;
    });
    expect(inner).toMatchObject({
      'tokenmeter.property.plan': 'pro',
      'tokenmeter.property.arm': 'b',
      'tokenmeter.property.seats': '12',
      'tokenmeter.property.beta': 'true',
      'tokenmeter.property.resource': 'doc-7',
    });
    expect(inner['tokenmeter.property.gone']).toBeUndefined();
    expect(outer['tokenmeter.property.arm']).toBe('a');
    expect(outer['tokenmeter.property.resource']).toBeUndefined();
    // A getter that throws never reaches the app: what was read before it is kept.
    const hostile = { ok: 'yes' } as Record<string, string>;
    Object.defineProperty(hostile, 'bad', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    const attrs = withUsageContext({ properties: hostile }, recordOne);
    expect(attrs['tokenmeter.property.ok']).toBe('yes');
  });

  it('setUsageContext fills in the current scope for what runs later', async () => {
    const attrs = await withUsageContext({ tenant: 'acme' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(setUsageContext({ userId: 'late-user', sessionId: 's9' })).toBe(true);
      await new Promise((r) => setTimeout(r, 1));
      return recordOne();
    });
    expect(attrs).toMatchObject({
      'tokenmeter.tenant': 'acme',
      'user.id': 'late-user',
      'session.id': 's9',
    });
    expect(setUsageContext({ userId: 'x' })).toBe(false);
  });

  it('hashes user ids when asked, with a salt', () => {
    configure({ hashUserIds: true, userIdSalt: 'pepper' });
    const attrs = withUsageContext({ userId: 'alice@example.com' }, recordOne);
    expect(attrs['user.id']).toMatch(/^[0-9a-f]{32}$/);
    expect(attrs['user.id']).not.toContain('alice');
    configure({ hashUserIds: (id) => `h:${id.length}` });
    expect(withUsageContext({ userId: 'bob' }, recordOne)['user.id']).toBe('h:3');
  });

  it('propagates only the opted-in keys in W3C baggage, and reads them downstream', () => {
    configure({ baggageKeys: ['tenant', 'feature'] });
    const carrier: Record<string, string> = {};
    withUsageContext({ tenant: 'acme', feature: 'faq', userId: 'secret-user' }, () =>
      propagation.inject(context.active(), carrier),
    );
    expect(carrier.baggage).toContain('tokenmeter.tenant=acme');
    expect(carrier.baggage).toContain('tokenmeter.feature=faq');
    expect(carrier.baggage).not.toContain('secret-user');
    // A downstream service: no usage context of its own, baggage from the request.
    const downstream = propagation.extract(context.active(), carrier);
    expect(getUsageContext(downstream)).toEqual({
      tenant: 'acme',
      feature: 'faq',
    });
    expect(usageAttributes(downstream)).toEqual({
      'tokenmeter.tenant': 'acme',
      'tokenmeter.feature': 'faq',
    });
    const attrs = context.with(downstream, recordOne);
    expect(attrs['tokenmeter.tenant']).toBe('acme');
  });
});

describe('express middleware', () => {
  it('takes the usage context from each request', async () => {
    const middleware = usageContextMiddleware({
      feature: (req) => req.url?.split('?')[0]?.slice(1),
      properties: (req) => ({ plan: (req as any).user.plan, region: String(req.headers['x-region'] ?? '') }),
    });
    const server = createServer((req, res) => {
      (req as any).user = { id: 'u-42', plan: 'pro' };
      middleware(req, res, () => {
        res.end(JSON.stringify(recordOne()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await fetch(`${url}/summarise?x=1`, {
      headers: { 'x-tenant-id': 'acme', 'x-request-id': 'req-1', 'x-region': 'eu' },
    });
    const attrs = await res.json();
    server.close();
    expect(attrs).toMatchObject({
      'tokenmeter.tenant': 'acme',
      'user.id': 'u-42',
      'tokenmeter.feature': 'summarise',
      'tokenmeter.request.id': 'req-1',
      'tokenmeter.property.plan': 'pro',
      'tokenmeter.property.region': 'eu',
    });
  });
});

describe('guard point', () => {
  it('a guard stops the call before the provider is called: a rejection with its typed error, never a synchronous throw', async () => {
    let providerCalled = false;
    setCallGuard((call) => {
      if (call.context.tenant === 'over-budget') throw new CallBlockedError('budget exceeded', 'budget');
    });
    const run = () =>
      runCall(
        () => spec,
        () => {
          providerCalled = true;
          return Promise.resolve(1);
        },
        (r, call) => {
          call.end();
          return r;
        },
      );
    let result: Promise<number> | undefined;
    expect(() => {
      result = withUsageContext({ tenant: 'over-budget' }, run);
    }).not.toThrow();
    // A bare .then() chain sees the block, as it would an API error.
    const seen = await (result as Promise<number>).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    expect(seen).toBeInstanceOf(CallBlockedError);
    expect((seen as CallBlockedError).message).toBe('budget exceeded');
    // The SDK's own promise methods (APIPromise.withResponse, _thenUnwrap) reject with it too.
    const sdkLike = withUsageContext({ tenant: 'over-budget' }, run) as unknown as {
      withResponse: () => Promise<unknown>;
    };
    await expect(sdkLike.withResponse()).rejects.toBeInstanceOf(CallBlockedError);
    expect(providerCalled).toBe(false);
    expect(tracing.ours().at(-1)?.attributes['error.type']).toBe('CallBlockedError');
    await expect(withUsageContext({ tenant: 'fine' }, run)).resolves.toBe(1);
    expect(providerCalled).toBe(true);
  });

  it('a guard that fails by itself is our fault: the call goes on', () => {
    setCallGuard(() => {
      throw new Error('bug in guard');
    });
    expect(
      runCall(
        () => spec,
        () => 7,
        (r, call) => {
          call.end();
          return r;
        },
      ),
    ).toBe(7);
  });
});

describe('a stream cut short', () => {
  const text = 'The capital of France is Paris, and it has been for a very long time indeed.';
  function cutShort(usageFinal: boolean): Record<string, unknown> {
    const call = startCall({ ...spec, isStreaming: true });
    call.usage = { inputTokens: 10, outputTokens: 1 };
    call.usageFinal = usageFinal;
    call.outputText = text;
    call.partial = true;
    call.end();
    return tracing.ours().at(-1)?.attributes ?? {};
  }

  it('counts the output seen over a provisional count (message_start), marked estimated', () => {
    const a = cutShort(false);
    expect(a['gen_ai.usage.input_tokens']).toBe(10);
    expect(a['gen_ai.usage.output_tokens']).toBe(estimateTokens(text));
    expect(estimateTokens(text)).toBeGreaterThan(1);
    expect(a['tokenmeter.usage.estimated']).toBe(true);
  });

  it('keeps a final count (the closing event arrived before the app stopped)', () => {
    const a = cutShort(true);
    expect(a['gen_ai.usage.output_tokens']).toBe(1);
    expect(a['tokenmeter.usage.estimated']).toBeUndefined();
  });
});

describe('a good guest', () => {
  it('the app’s own error passes through unchanged, identity kept', () => {
    const appError = new TypeError('bad input');
    expect(() =>
      runCall(
        () => spec,
        () => {
          throw appError;
        },
        (r) => r,
      ),
    ).toThrow(appError);
    expect(tracing.ours().at(-1)?.attributes['error.type']).toBe('TypeError');
  });

  it('our faults (a describe that throws) fall back to the bare call', () => {
    expect(
      runCall(
        () => {
          throw new Error('adapter bug');
        },
        () => 'result',
        (r) => r,
      ),
    ).toBe('result');
  });

  it('an unknown model: no cost attribute, unpriced flag', () => {
    const call = startCall({ ...spec, requestModel: 'my-finetune-xyz' });
    call.usage = { inputTokens: 1, outputTokens: 1 };
    call.end();
    const a = tracing.ours().at(-1)?.attributes ?? {};
    expect(a['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(a['tokenmeter.cost.unpriced']).toBe(true);
    expect(a['gen_ai.usage.input_tokens']).toBe(1);
  });
});

describe('redaction of captured content', () => {
  it.each([
    ['mail me at jane.doe@example.com', 'mail me at [REDACTED_EMAIL]'],
    ['key sk-proj-abcdefghijklmnop1234567890', 'key [REDACTED_SECRET]'],
    ['anthropic sk-ant-api03-abcdefghijklmnopqrstu', 'anthropic [REDACTED_SECRET]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED_SECRET]'],
    ['Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345', 'Authorization: Bearer [REDACTED_SECRET]'],
    ['password=hunter2hunter2', 'password=[REDACTED_SECRET]'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED_SECRET]'],
    ['nothing secret here', 'nothing secret here'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it('no content unless opted in; then redacted messages on the span', () => {
    const withText = {
      ...spec,
      input: 'a@b.co',
      readInput: (mail: string) => [{ role: 'user', content: `my mail is ${mail}` }],
    };
    let call = startCall(withText);
    call.outputText = 'ok';
    call.end();
    expect(tracing.ours().at(-1)?.attributes['gen_ai.input.messages']).toBeUndefined();
    configure({ captureMessageContent: true });
    call = startCall(withText);
    call.outputText = 'reply to x@y.org';
    call.end();
    const a = tracing.ours().at(-1)?.attributes ?? {};
    expect(JSON.parse(String(a['gen_ai.input.messages']))).toEqual([
      {
        role: 'user',
        parts: [{ type: 'text', content: 'my mail is [REDACTED_EMAIL]' }],
      },
    ]);
    expect(String(a['gen_ai.output.messages'])).toContain('[REDACTED_EMAIL]');
  });
});
