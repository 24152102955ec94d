import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTES, readGatewayConfig } from './config.js';
import { apiOfPath } from './errors.js';

describe('readGatewayConfig', () => {
  it('is off without a port or a path, with the providers as default routes', () => {
    const c = readGatewayConfig({});
    expect([c.port, c.path]).toEqual([undefined, undefined]);
    expect(c.routes).toEqual(DEFAULT_ROUTES);
  });

  it('one line per OpenAI-compatible host; a route of the same name replaces the default', () => {
    const c = readGatewayConfig({
      TOKENMETER_GATEWAY_PORT: '4319',
      TOKENMETER_GATEWAY_PATH: '/gateway/',
      TOKENMETER_GATEWAY_ROUTES: 'groq=https://api.groq.com/openai/, openai=http://vllm:8000',
    });
    expect(c.port).toBe(4319);
    expect(c.path).toBe('/gateway');
    expect(c.routes.find((r) => r.name === 'groq')?.upstream).toBe('https://api.groq.com/openai');
    expect(c.routes.find((r) => r.name === 'openai')?.upstream).toBe('http://vllm:8000');
    expect(c.routes.map((r) => r.name)).toEqual(['openai', 'anthropic', 'google', 'groq']);
  });

  it.each([
    [{ TOKENMETER_GATEWAY_PORT: '70000' }, /TOKENMETER_GATEWAY_PORT must be a port number/],
    [{ TOKENMETER_GATEWAY_PATH: 'gateway' }, /TOKENMETER_GATEWAY_PATH must be a path/],
    [{ TOKENMETER_GATEWAY_PATH: '/api/gw' }, /not under \/api/],
    [{ TOKENMETER_GATEWAY_ROUTES: 'groq' }, /"groq" is not name=url/],
    [{ TOKENMETER_GATEWAY_ROUTES: 'Groq=https://x' }, /route name "Groq"/],
    [{ TOKENMETER_GATEWAY_ROUTES: 'x=ftp://x' }, /must be http\(s\)/],
    [{ TOKENMETER_GATEWAY_ROUTES: 'x=https://u:p@x' }, /no query, fragment or credentials/],
    [{ TOKENMETER_GATEWAY_CONFIG: '/nonexistent/gw.json' }, /cannot read \/nonexistent\/gw.json/],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(() => readGatewayConfig(env)).toThrow(message);
  });
});

describe('apiOfPath', () => {
  it.each([
    ['/v1/chat/completions', 'openai'],
    ['/v1/models/gpt-4o', 'openai'],
    ['/v1/messages', 'anthropic'],
    ['/v1/messages/count_tokens', 'anthropic'],
    ['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'google'],
    ['/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash:generateContent', 'google'],
  ])('%s speaks %s', (path, api) => {
    expect(apiOfPath(path)).toBe(api);
  });
});
