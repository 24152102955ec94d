import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { type Context, defaultTextMapGetter, ROOT_CONTEXT, type Tracer } from '@opentelemetry/api';
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { GEN_AI_PROVIDER_NAMES } from '@tokenmeter/instrumentation/semconv';
import {
  type Call,
  contextWithUsage,
  eventValue,
  getUsageContext,
  isWirePath,
  keepEvent,
  NOT_JSON,
  SseEvents,
  startCall,
  type WireCall,
  wireCall,
} from '@tokenmeter/instrumentation/providers';
import type { Logger } from 'pino';
import type { KeyResolver, Principal } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { CallScope, GatewayBudgets } from './budget.js';
import type { GatewayConfig, GatewayRoute } from './config.js';
import { apiOfPath, type GatewayErrorKind, gatewayError } from './errors.js';

export interface GatewayDeps {
  config: GatewayConfig;
  keys: KeyResolver;
  tracer: Tracer;
  budgets: GatewayBudgets;
  metrics: Metrics;
  log: Logger;
}

/** Attribution headers: read here, never sent upstream. */
const TM_PREFIX = 'x-tokenmeter-';
const PROPERTY_PREFIX = 'x-tokenmeter-property-';
/** Hop-by-hop headers (RFC 9110 §7.6.1) and Host: each connection's own, never forwarded. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
/** What describe says of a host it does not know: the API's own provider. */
const GENERIC = new Set(['openai', 'anthropic', 'google']);
const TRACE = new W3CTraceContextPropagator();
const BAGGAGE = new W3CBaggagePropagator();
/** The most of a JSON answer kept to read its usage (a bigger one is forwarded, and estimated). */
const MAX_READ_BYTES = 16 * 1024 * 1024;

interface Upstream {
  route: GatewayRoute;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  basePath: string;
  /** The Host header for it (Node adds none when headers are given as a list). */
  host: string;
  agent: http.Agent;
}

/**
 * The gateway: `/{route}/{the provider's path}` is forwarded to the route's upstream with the
 * caller's own provider key, untouched but for the x-tokenmeter-* headers (removed) and, on a
 * metered call, `accept-encoding` (identity, so the answer can be read as it passes) and an
 * OpenAI chat stream's `stream_options.include_usage` (asked for, and its additions removed from
 * what the caller gets, by the instrumentation's own reader). A metered call is a `Call` of the
 * instrumentation's lifecycle on the gateway's tracer (record.ts writes its row).
 */
export class Gateway {
  private readonly upstreams = new Map<string, Upstream>();

  constructor(private readonly deps: GatewayDeps) {
    for (const route of deps.config.routes) {
      const url = new URL(route.upstream);
      const secure = url.protocol === 'https:';
      this.upstreams.set(route.name, {
        route,
        protocol: secure ? 'https:' : 'http:',
        hostname: url.hostname,
        port: url.port ? Number(url.port) : secure ? 443 : 80,
        basePath: url.pathname.replace(/\/+$/, ''),
        host: url.host,
        agent: secure
          ? new https.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' })
          : new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
      });
    }
  }

  /** Serve one request; `path` is the URL after the gateway's prefix (`/openai/v1/chat/completions?…`). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    const slash = path.indexOf('/', 1);
    const name = slash < 0 ? path.slice(1).split('?')[0]! : path.slice(1, slash);
    const rest = slash < 0 ? '/' : path.slice(slash);
    const queryAt = rest.indexOf('?');
    const pathname = queryAt < 0 ? rest : rest.slice(0, queryAt);
    const upstream = this.upstreams.get(name);
    if (!upstream) {
      this.refuse(
        res,
        pathname,
        'not_found',
        'unknown_route',
        `no gateway route ${JSON.stringify(name)}: configure it in TOKENMETER_GATEWAY_ROUTES`,
      );
      req.resume();
      return;
    }
    const principal = this.principal(req);
    principal.then(
      (p) => {
        if (typeof p === 'string') {
          req.resume();
          this.refuse(
            res,
            pathname,
            'unauthenticated',
            p,
            p === 'missing_key'
              ? 'missing x-tokenmeter-key: the gateway needs a tokenmeter key (tokenmeter keys create --role ingest)'
              : 'x-tokenmeter-key is not a valid tokenmeter ingest key',
          );
          return;
        }
        // The key's rate limit, the same token bucket as its OTLP requests (TOKENMETER_RATE_LIMIT_*).
        const wait = this.deps.keys.admit?.(p) ?? 0;
        if (wait > 0) {
          req.resume();
          this.deps.metrics.rateLimited.inc();
          this.refuse(
            res,
            pathname,
            'rate_limited',
            'rate_limited',
            `rate limit of this tokenmeter key exceeded (TOKENMETER_RATE_LIMIT_RPS), retry in ${wait} s`,
            wait,
          );
          return;
        }
        // Only a request that may be an AI call is read whole (a file upload streams through).
        if (req.method === 'POST' && isWirePath(pathname)) this.readBody(req, res, upstream, rest, pathname, p);
        else this.pass(req, res, upstream, rest, undefined, upstream.route.name);
      },
      () => {
        req.resume();
        this.refuse(
          res,
          pathname,
          'unreachable',
          'key_store_unavailable',
          'tokenmeter keys cannot be checked now, retry later',
        );
      },
    );
  }

  private async principal(req: IncomingMessage): Promise<Principal | 'missing_key' | 'wrong_key'> {
    const secret = req.headers['x-tokenmeter-key'];
    if (typeof secret !== 'string' || secret === '') return 'missing_key';
    const p = await this.deps.keys.resolve(secret);
    if (!p || (p.role !== 'ingest' && p.role !== 'admin')) return 'wrong_key';
    return p;
  }

  private readBody(
    req: IncomingMessage,
    res: ServerResponse,
    up: Upstream,
    rest: string,
    pathname: string,
    p: Principal,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > this.deps.config.maxBodyBytes) {
        tooLarge = true;
        chunks.length = 0;
        this.refuse(
          res,
          pathname,
          'too_large',
          'body_too_large',
          `request body larger than ${this.deps.config.maxBodyBytes} bytes`,
        );
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = undefined;
      }
      const wire = body === undefined ? undefined : safely(() => wireCall(pathname, body, up.route.upstream));
      if (!wire) {
        this.pass(req, res, up, rest, raw, up.route.name);
        return;
      }
      this.meter(req, res, up, rest, raw, wire, p).catch((err: Error) => {
        this.deps.log.error({ err: err.message, route: up.route.name }, 'gateway call failed');
        if (!res.headersSent) this.refuse(res, pathname, 'unreachable', 'gateway_fault', 'tokenmeter gateway fault');
        else res.destroy();
      });
    });
  }

  /** Forward unread (not an AI call, or not one we know): status, headers and body as they come. */
  private pass(
    req: IncomingMessage,
    res: ServerResponse,
    up: Upstream,
    rest: string,
    body: Buffer | undefined,
    route: string,
  ): void {
    this.deps.metrics.gatewayRequests.inc({ route, kind: 'passed' });
    const headers = upstreamHeaders(req.rawHeaders, up.host, false, body?.length);
    const onResponse = (ures: IncomingMessage) => {
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, responseHeaders(ures.rawHeaders, false));
      ures.pipe(res);
      ures.on('error', () => res.destroy());
    };
    const onError = (err: Error) => {
      if (!res.headersSent) this.refuse(res, rest, 'unreachable', 'upstream_unreachable', unreachable(up, err));
      else res.destroy();
    };
    const hasBody =
      body !== undefined ||
      req.headers['content-length'] !== undefined ||
      req.headers['transfer-encoding'] !== undefined;
    if (hasBody && body === undefined) {
      // A streamed body cannot be sent twice: no retry.
      const upReq = this.request(up, req.method ?? 'GET', rest, headers);
      upReq.on('response', onResponse);
      upReq.on('error', onError);
      res.on('close', () => {
        if (!res.writableFinished) upReq.destroy();
      });
      req.pipe(upReq);
      return;
    }
    const sent = this.send(up, req.method ?? 'GET', rest, headers, body, onResponse, onError);
    res.on('close', () => {
      if (!res.writableFinished) sent.destroy();
    });
  }

  /**
   * Send a request whose body is in hand. A keep-alive socket that the upstream closed just as it
   * was reused fails with ECONNRESET before anything reached the upstream: tried once more on a
   * fresh socket (Node's documented pattern, `request.reusedSocket`).
   */
  private send(
    up: Upstream,
    method: string,
    rest: string,
    headers: string[],
    body: Buffer | undefined,
    onResponse: (ures: IncomingMessage) => void,
    onError: (err: Error) => void,
  ): { destroy(): void } {
    let current: http.ClientRequest | undefined;
    let destroyed = false;
    const attempt = (mayRetry: boolean) => {
      const r = this.request(up, method, rest, headers);
      current = r;
      r.on('response', onResponse);
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (destroyed) return;
        if (mayRetry && r.reusedSocket && err.code === 'ECONNRESET') attempt(false);
        else onError(err);
      });
      r.end(body);
    };
    attempt(true);
    return {
      destroy() {
        destroyed = true;
        current?.destroy();
      },
    };
  }

  private async meter(
    req: IncomingMessage,
    res: ServerResponse,
    up: Upstream,
    rest: string,
    raw: Buffer,
    wire: WireCall,
    p: Principal,
  ): Promise<void> {
    const h = req.headers;
    const tenant = p.tenant === '*' ? operatorTenant(h['x-tokenmeter-tenant']) : p.tenant;
    const spec = wire.spec;
    // A route's own provider, else its name when that names a provider the upstream's host did not (a local Groq).
    const named = up.route.name in GEN_AI_PROVIDER_NAMES && GENERIC.has(spec.provider) ? up.route.name : undefined;
    const routeProvider = up.route.provider ?? named;
    if (routeProvider) spec.provider = routeProvider;
    const ctx = this.parentContext(req, tenant);
    // Budgets see the call as its row will: headers first, then the caller's tokenmeter.* baggage.
    const usage = getUsageContext(ctx);
    const scope: CallScope = {
      user: usage.userId ?? '',
      team: usage.team ?? '',
      feature: usage.feature ?? '',
      model: spec.requestModel,
    };
    const call = startCall(spec, ctx, this.deps.tracer);
    const refusal = await this.deps.budgets.admit(tenant, scope, spec, raw.length, call.span.spanContext().spanId);
    if (refusal) {
      const err = new Error(refusal.message);
      err.name = 'BudgetExceededError';
      call.end(err);
      this.refuse(res, rest, 'budget_exceeded', 'budget_exceeded', refusal.message);
      return;
    }
    if (res.destroyed) {
      call.partial = true;
      call.end(abortError());
      return;
    }
    this.deps.metrics.gatewayRequests.inc({ route: up.route.name, kind: 'call' });
    const payload = wire.body ? withIncludeUsage(raw, wire.body) : raw;
    let done = false;
    const finish = (error?: unknown, partial = false) => {
      if (done) return;
      done = true;
      if (partial) call.partial = true;
      call.end(error);
    };
    res.on('close', () => {
      if (res.writableFinished) return;
      // The caller went away: the provider stops generating (and billing) too.
      sent.destroy();
      finish(abortError(), true);
    });
    const onError = (err: Error) => {
      if (done) return;
      if (!res.headersSent) {
        this.refuse(res, rest, 'unreachable', 'upstream_unreachable', unreachable(up, err));
        finish(err);
      } else {
        res.destroy();
        finish(err, true);
      }
    };
    const onResponse = (ures: IncomingMessage) => {
      const status = ures.statusCode ?? 502;
      const isSse = /^text\/event-stream/i.test(ures.headers['content-type'] ?? '');
      const rewrites = isSse && wire.body !== undefined;
      res.writeHead(status, ures.statusMessage, responseHeaders(ures.rawHeaders, rewrites));
      ures.on('error', (err) => {
        res.destroy();
        finish(err, true);
      });
      ures.on('aborted', () => {
        res.destroy();
        finish(new Error('upstream closed the stream early'), true);
      });
      if (status >= 400) {
        ures.pipe(res);
        ures.on('end', () => finish(httpError(status)));
        return;
      }
      if (isSse) this.forwardStream(ures, res, call, wire, rewrites, finish);
      else this.forwardBody(ures, res, call, wire, finish);
    };
    const headers = upstreamHeaders(req.rawHeaders, up.host, true, payload.length);
    const sent = this.send(up, req.method ?? 'POST', rest, headers, payload, onResponse, onError);
  }

  /** SSE: each chunk goes on as it arrives; its events are read on the way (and, rewriting, filtered). */
  private forwardStream(
    ures: IncomingMessage,
    res: ServerResponse,
    call: Call,
    wire: WireCall,
    rewrites: boolean,
    finish: (error?: unknown, partial?: boolean) => void,
  ): void {
    const events = new SseEvents();
    const read = (value: unknown): unknown => {
      call.chunk();
      try {
        return wire.reader.chunk(value, call);
      } catch {
        return true;
      }
    };
    ures.on('data', (chunk: Buffer) => {
      let out: Buffer | undefined = chunk;
      if (!rewrites) {
        for (const e of events.push(chunk)) {
          const value = eventValue(e);
          if (value !== NOT_JSON) read(value);
        }
      } else {
        const kept: Buffer[] = [];
        for (const e of events.push(chunk)) {
          const k = keepEvent(e, read);
          if (k) kept.push(k);
        }
        out = kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : Buffer.concat(kept);
      }
      if (out && !res.write(out)) {
        ures.pause();
        res.once('drain', () => ures.resume());
      }
    });
    ures.on('end', () => {
      const rest = events.rest();
      if (rewrites && rest) res.write(rest);
      res.end();
      finish();
    });
  }

  /** JSON (or anything not SSE): forwarded as it arrives, read once complete. */
  private forwardBody(
    ures: IncomingMessage,
    res: ServerResponse,
    call: Call,
    wire: WireCall,
    finish: (error?: unknown, partial?: boolean) => void,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    ures.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_READ_BYTES) chunks.push(chunk);
      if (!res.write(chunk)) {
        ures.pause();
        res.once('drain', () => ures.resume());
      }
    });
    ures.on('end', () => {
      res.end();
      if (size <= MAX_READ_BYTES) {
        try {
          wire.reader.read(JSON.parse(Buffer.concat(chunks).toString('utf8')), call);
        } catch {
          // Not JSON after all: the call is estimated from what the request said.
        }
      }
      finish();
    });
  }

  private request(up: Upstream, method: string, rest: string, headers: string[]): http.ClientRequest {
    const mod = up.protocol === 'https:' ? https : http;
    return mod.request({
      protocol: up.protocol,
      hostname: up.hostname,
      port: up.port,
      method,
      path: up.basePath + rest,
      headers,
      agent: up.agent,
    });
  }

  /** The caller's trace (traceparent, baggage) and the attribution headers, as the call's parent context. */
  private parentContext(req: IncomingMessage, tenant: string): Context {
    const h = req.headers;
    let ctx = ROOT_CONTEXT;
    if (h.traceparent) ctx = TRACE.extract(ctx, h, defaultTextMapGetter);
    if (h.baggage) ctx = BAGGAGE.extract(ctx, h, defaultTextMapGetter);
    let properties: Record<string, string> | undefined;
    for (const name in h) {
      if (!name.startsWith(PROPERTY_PREFIX)) continue;
      (properties ??= {})[name.slice(PROPERTY_PREFIX.length)] = header(h[name]);
    }
    return contextWithUsage(ctx, {
      tenant,
      userId: header(h['x-tokenmeter-user']),
      team: header(h['x-tokenmeter-team']),
      feature: header(h['x-tokenmeter-feature']),
      sessionId: header(h['x-tokenmeter-session']),
      requestId: header(h['x-tokenmeter-request-id']),
      properties,
    });
  }

  private refuse(
    res: ServerResponse,
    path: string,
    kind: GatewayErrorKind,
    reason: string,
    message: string,
    retryAfterS?: number,
  ): void {
    this.deps.metrics.gatewayRefused.inc({ reason });
    if (res.headersSent || res.destroyed) return;
    const e = gatewayError(apiOfPath(path), kind, message, retryAfterS);
    res.writeHead(e.status, e.headers).end(e.body);
  }

  close(): void {
    for (const up of this.upstreams.values()) up.agent.destroy();
  }
}

/** The request's headers for the upstream, in their order and case: without hop-by-hop and x-tokenmeter-* ones. */
function upstreamHeaders(raw: string[], host: string, metered: boolean, length: number | undefined): string[] {
  const out: string[] = ['host', host];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP.has(lower) || lower.startsWith(TM_PREFIX)) continue;
    if (length !== undefined && lower === 'content-length') continue;
    // A metered answer is read as it passes: ask for it uncompressed.
    if (metered && lower === 'accept-encoding') continue;
    out.push(name, raw[i + 1]!);
  }
  if (length !== undefined) out.push('content-length', String(length));
  if (metered) out.push('accept-encoding', 'identity');
  return out;
}

/** The upstream's response headers as sent, without hop-by-hop ones (and its length when events are removed). */
function responseHeaders(raw: string[], rewrites: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP.has(lower) && lower !== 'host') continue;
    if (rewrites && lower === 'content-length') continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * An OpenAI chat stream asked for its usage: `stream_options` added at the front of the caller's
 * own bytes (the rest sent as written), or the body re-serialised when it has stream_options already.
 */
function withIncludeUsage(raw: Buffer, body: Record<string, unknown>): Buffer {
  const text = raw.toString('utf8');
  const open = text.indexOf('{');
  if (!/"stream_options"/.test(text) && open >= 0 && text.slice(0, open).trim() === '') {
    return Buffer.from(`{"stream_options":{"include_usage":true},${text.slice(open + 1)}`, 'utf8');
  }
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function header(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

function operatorTenant(v: string | string[] | undefined): string {
  const t = header(v);
  return /^[A-Za-z0-9_.-]{1,64}$/.test(t) ? t : 'default';
}

function httpError(status: number): Error {
  // error.type is the status code, as the HTTP semantic conventions do for a failed request.
  const err = new Error(`upstream answered ${status}`);
  err.name = String(status);
  return err;
}

function abortError(): Error {
  const err = new Error('the caller closed the connection before the answer was complete');
  err.name = 'AbortError';
  return err;
}

function unreachable(up: Upstream, err: Error & { code?: string }): string {
  return `tokenmeter gateway: upstream of route ${up.route.name} unreachable (${err.code ?? err.message})`;
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
