import { readFileSync } from 'node:fs';

/**
 * The gateway's configuration (off unless a port or a path is given). Each route is a name in
 * the gateway's URL (`/openai/v1/chat/completions`) and the upstream base URL the rest of the
 * path is appended to, so an OpenAI-compatible host is one line: `groq=https://api.groq.com/openai`.
 */
export interface GatewayConfig {
  /** Its own port (TOKENMETER_GATEWAY_PORT); undefined: not on a port of its own. */
  port: number | undefined;
  /** A path prefix on the service's port (TOKENMETER_GATEWAY_PATH, e.g. `/gateway`); undefined: none. */
  path: string | undefined;
  routes: GatewayRoute[];
  /** Largest request body read (a metered call's JSON); larger → 413 in the provider's shape. */
  maxBodyBytes: number;
}

export interface GatewayRoute {
  name: string;
  /** Base URL without a trailing slash, e.g. https://api.openai.com. */
  upstream: string;
  /** The provider the calls are priced as; undefined: known from the upstream's host, else the route's name or API. */
  provider: string | undefined;
}

/** The providers' own API hosts: the routes a gateway has unless configured otherwise. */
export const DEFAULT_ROUTES: readonly GatewayRoute[] = [
  { name: 'openai', upstream: 'https://api.openai.com', provider: undefined },
  { name: 'anthropic', upstream: 'https://api.anthropic.com', provider: undefined },
  { name: 'google', upstream: 'https://generativelanguage.googleapis.com', provider: undefined },
];

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export class GatewayConfigError extends Error {}

/**
 * TOKENMETER_GATEWAY_PORT, TOKENMETER_GATEWAY_PATH, TOKENMETER_GATEWAY_ROUTES (`name=url,…`) and
 * TOKENMETER_GATEWAY_CONFIG (a JSON file: `{"routes": {"name": "url" | {"url", "provider"}}}`).
 * Routes from the file, then from the variable, replace the default of the same name.
 */
export function readGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const port = env.TOKENMETER_GATEWAY_PORT ? portNumber(env.TOKENMETER_GATEWAY_PORT) : undefined;
  const path = env.TOKENMETER_GATEWAY_PATH ? prefix(env.TOKENMETER_GATEWAY_PATH) : undefined;
  const routes = new Map(DEFAULT_ROUTES.map((r) => [r.name, r]));
  if (env.TOKENMETER_GATEWAY_CONFIG) {
    for (const r of routesFromFile(env.TOKENMETER_GATEWAY_CONFIG)) routes.set(r.name, r);
  }
  for (const item of (env.TOKENMETER_GATEWAY_ROUTES ?? '').split(/[,\n]/)) {
    const line = item.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new GatewayConfigError(`TOKENMETER_GATEWAY_ROUTES: ${JSON.stringify(line)} is not name=url`);
    const r = route(line.slice(0, eq).trim(), line.slice(eq + 1).trim(), undefined, 'TOKENMETER_GATEWAY_ROUTES');
    routes.set(r.name, r);
  }
  return { port, path, routes: [...routes.values()], maxBodyBytes: 32 * 1024 * 1024 };
}

function routesFromFile(file: string): GatewayRoute[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GatewayConfigError(`TOKENMETER_GATEWAY_CONFIG: cannot read ${file}: ${(err as Error).message}`);
  }
  const routes = (doc as { routes?: unknown })?.routes;
  if (!routes || typeof routes !== 'object' || Array.isArray(routes)) {
    throw new GatewayConfigError(`TOKENMETER_GATEWAY_CONFIG: ${file} must hold {"routes": {"name": "url", …}}`);
  }
  return Object.entries(routes).map(([name, v]) => {
    const where = `TOKENMETER_GATEWAY_CONFIG (${file})`;
    if (typeof v === 'string') return route(name, v, undefined, where);
    const o = v as { url?: unknown; provider?: unknown } | null;
    if (!o || typeof o.url !== 'string' || (o.provider !== undefined && typeof o.provider !== 'string')) {
      throw new GatewayConfigError(`${where}: route ${name} must be a URL or {"url": …, "provider": …}`);
    }
    return route(name, o.url, o.provider as string | undefined, where);
  });
}

function route(name: string, url: string, provider: string | undefined, where: string): GatewayRoute {
  if (!NAME_RE.test(name)) {
    throw new GatewayConfigError(
      `${where}: route name ${JSON.stringify(name)} must be lower-case letters, digits, - or _`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatewayConfigError(`${where}: route ${name}: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new GatewayConfigError(`${where}: route ${name}: ${JSON.stringify(url)} must be http(s)`);
  }
  if (parsed.search || parsed.hash || parsed.username) {
    throw new GatewayConfigError(
      `${where}: route ${name}: ${JSON.stringify(url)} must be a base URL (no query, fragment or credentials)`,
    );
  }
  return { name, upstream: url.replace(/\/+$/, ''), provider: provider || undefined };
}

function portNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new GatewayConfigError(`TOKENMETER_GATEWAY_PORT must be a port number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function prefix(raw: string): string {
  if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/.test(raw) || raw.startsWith('/api/') || raw === '/v1') {
    throw new GatewayConfigError(
      `TOKENMETER_GATEWAY_PATH must be a path like /gateway, not under /api or /v1, got ${JSON.stringify(raw)}`,
    );
  }
  return raw.replace(/\/+$/, '');
}
