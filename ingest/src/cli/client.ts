import { readLocalAdminKey } from '../local-admin-key.js';
import { CliError } from './errors.js';
import { ProgressBar } from './progress.js';

/**
 * The CLI's one HTTP client for the running service (embedded ClickHouse belongs to one
 * process, so every command but serve and migrate goes through the API): TOKENMETER_URL
 * (default http://127.0.0.1:$PORT or :4318) and TOKENMETER_KEY (default TOKENMETER_ADMIN_KEY,
 * then the bootstrap key `npm start` wrote into TOKENMETER_DATA_DIR).
 */
export class ApiClient {
  readonly base: string;

  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.base = (env.TOKENMETER_URL || `http://127.0.0.1:${env.PORT || 4318}`).replace(/\/$/, '');
  }

  private key(): string {
    const key =
      this.env.TOKENMETER_KEY ||
      this.env.TOKENMETER_ADMIN_KEY ||
      readLocalAdminKey(this.env.TOKENMETER_DATA_DIR || './.tokenmeter');
    if (!key)
      throw new CliError('set TOKENMETER_KEY (or TOKENMETER_ADMIN_KEY) to an API key of the running service', 2);
    return key;
  }

  /** The raw response of one request; a service that cannot be reached is a CliError. */
  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const key = this.key();
    try {
      return await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      // fetch says 'fetch failed'; the reason (ECONNREFUSED, ENOTFOUND, …) is on its cause.
      const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const why = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(
        `cannot reach tokenmeter at ${this.base} (${why}): is 'tokenmeter serve' running? set TOKENMETER_URL`,
      );
    }
  }

  /** One JSON request; a non-2xx answer is a CliError carrying the service's reason. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    const parsed = text ? parseJson(text) : undefined;
    if (!res.ok) throw refused(method, path, res.status, parsed, text);
    return parsed as T;
  }

  /** POST a job whose answer is NDJSON progress lines and a result; draws the one progress bar. */
  async job<T = unknown>(path: string, body: unknown, label: string): Promise<T> {
    const res = await this.request('POST', path, body);
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('ndjson')) {
      const text = await res.text();
      const parsed = parseJson(text) as { result?: unknown } | undefined;
      if (!res.ok) throw refused('POST', path, res.status, parsed, text);
      return parsed?.result as T;
    }
    const bar = new ProgressBar(label);
    let result: unknown;
    try {
      for await (const line of lines(res.body!)) {
        const msg = parseJson(line) as {
          progress?: { done: number; total: number; label: string };
          result?: unknown;
          error?: string;
        };
        if (msg.progress) bar.update(msg.progress.done, msg.progress.total, msg.progress.label);
        if (msg.error) throw new CliError(`${label} failed: ${msg.error}`);
        if ('result' in msg) result = msg.result;
      }
    } finally {
      bar.finish();
    }
    return result as T;
  }

  /**
   * The tenant a tenant-scoped command acts on: --tenant or TOKENMETER_TENANT when given;
   * otherwise a tenant key's own (undefined: the service knows it), and for an operator key
   * (all tenants) the store's only tenant, or an error that lists them and names --tenant.
   */
  async tenant(given: string | undefined): Promise<string | undefined> {
    const chosen = given || this.env.TOKENMETER_TENANT;
    if (chosen) return chosen;
    const seen = await this.json<{ tenant: string; tenants: string[] }>('GET', '/api/v1/tenants');
    if (seen.tenant !== '*') return undefined;
    if (seen.tenants.length === 1) return seen.tenants[0];
    if (seen.tenants.length === 0)
      throw new CliError('this operator key covers all tenants and the store has none yet: pass --tenant <tenant>', 2);
    const shown = seen.tenants.slice(0, 20).join(', ') + (seen.tenants.length > 20 ? ', …' : '');
    throw new CliError(
      `this operator key covers ${seen.tenants.length} tenants (${shown}): pass --tenant <tenant> (or set TOKENMETER_TENANT)`,
      2,
    );
  }
}

/** `?tenant=…` (or `&tenant=…`) for a resolved tenant, nothing for a tenant key's own. */
export function tenantParam(tenant: string | undefined, first = true): string {
  return tenant ? `${first ? '?' : '&'}tenant=${encodeURIComponent(tenant)}` : '';
}

function refused(method: string, path: string, status: number, parsed: unknown, text: string): CliError {
  const reason = (parsed as { error?: unknown } | undefined)?.error;
  const why = typeof reason === 'string' ? reason : text.slice(0, 300).replace(/\s+/g, ' ');
  // 4xx: the request was wrong (a value, an id, the key); 5xx: the service failed.
  return new CliError(`${method} ${path.split('?')[0]} failed with ${status}: ${why}`, status < 500 ? 2 : 1);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      if (line) yield line;
    }
  }
  if (buffer.trim()) yield buffer.trim();
}
