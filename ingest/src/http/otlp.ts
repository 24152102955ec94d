import express, { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import type { SpanInput } from '@tokenmeter/instrumentation/normalize';
import { ATTR_TM_TENANT } from '@tokenmeter/instrumentation/semconv';
import type { Metrics } from '../metrics.js';
import {
  DecodeError,
  type OtlpEncoding,
  decodeTraces,
  encodeResponse,
  encodeStatus,
  encodingOf,
  type SpanRejection,
} from '../otlp/decode.js';
import { BackpressureError } from '../pipeline/backpressure.js';
import { buildRows } from '../pipeline/build.js';
import { checkSpanLimits, type SpanLimits } from '../pipeline/limits.js';
import type { PropertyLimits } from '../pipeline/properties.js';
import type { IngestPricer } from '../pipeline/pricing.js';
import type { BatchWriter } from '../pipeline/writer.js';
import { type KeyResolver, requireRole } from './auth.js';

export interface OtlpDeps {
  keys: KeyResolver;
  writer: BatchWriter;
  pricer: IngestPricer;
  metrics: Metrics;
  log: Logger;
  maxBodyBytes: number;
  /** TOKENMETER_TTL_DAYS: spans older than this are refused (raw rows would expire at once, rollups keep them). */
  retentionDays: number;
  limits: SpanLimits & PropertyLimits & { maxSpansPerRequest: number; maxInflightRequests?: number };
}

/** POST /v1/traces: OTLP/HTTP, protobuf or JSON, gzip or plain (OTLP specification 1.x). */
export function otlpRouter(deps: OtlpDeps): Router {
  const router = Router();
  // body-parser inflates gzip/deflate and applies the limit to the inflated bytes,
  // so a gzip bomb stops at maxBodyBytes with a 413.
  const raw = express.raw({ type: () => true, limit: deps.maxBodyBytes, inflate: true });
  // Requests being read, decoded or waiting for their batch. Past the limit, refuse before
  // reading the body: a burst of clients gets a cheap 503 instead of queueing CPU and memory.
  let inflight = 0;
  const maxInflight = deps.limits.maxInflightRequests ?? Number.POSITIVE_INFINITY;
  router.post('/v1/traces', requireRole('ingest', deps.keys, deps.metrics), (req, res, next) => {
    const encoding = encodingOf(req.headers['content-type']);
    if (!encoding) {
      deps.metrics.requestsRejected.inc({ reason: 'unsupported_media_type' });
      res.status(415).json({ code: 3, message: 'Content-Type must be application/x-protobuf or application/json' });
      return;
    }
    if (inflight >= maxInflight) {
      deps.metrics.requestsRejected.inc({ reason: 'too_many_requests_in_flight' });
      res.set('Retry-After', '1');
      sendStatus(res, 503, encoding, `${inflight} requests already in progress, retry later`);
      return;
    }
    if (deps.writer.isQueueFull) {
      // What writer.write would answer after the decode and build: answered before reading the body.
      deps.metrics.requestsRejected.inc({ reason: 'queue_full' });
      res.set('Retry-After', '1');
      sendStatus(res, 503, encoding, 'queue full, retry later');
      return;
    }
    inflight++;
    res.once('close', () => {
      inflight--;
    });
    raw(req, res, (err?: unknown) => {
      if (err) return bodyError(err, encoding, res, deps);
      handle(req, res, encoding, deps).catch(next);
    });
  });
  return router;
}

async function handle(req: Request, res: Response, encoding: OtlpEncoding, deps: OtlpDeps): Promise<void> {
  // Decoded spans and built rows are made in receive(), whose frame ends before the wait for the
  // batch: a suspended async function keeps every local alive, and a request waits its batch's
  // spool and insert (a second or more under load) — long enough to carry them into the old
  // generation, where only a full GC frees them. The writer lets go of the rows once spooled.
  const received = receive(req, res, encoding, deps);
  if (!received) return;
  const { rejected, written } = received;
  try {
    await written;
  } catch (err) {
    const refused = err instanceof BackpressureError ? err : undefined;
    const reason = refused?.reason ?? 'write_failed';
    deps.metrics.requestsRejected.inc({ reason });
    deps.log.warn({ err: (err as Error).message, reason }, 'batch not accepted; asking the client to retry');
    res.set('Retry-After', String(refused?.retryAfterS ?? 5));
    sendStatus(res, 503, encoding, `${reason.replaceAll('_', ' ')}, retry later`);
    return;
  }
  const message = rejected
    .slice(0, 5)
    .map((r) => `${r.reason}: ${r.detail}`)
    .join('; ');
  const out = encodeResponse(
    encoding,
    rejected.length,
    message + (rejected.length > 5 ? `; and ${rejected.length - 5} more` : ''),
  );
  res.status(200).type(out.contentType).send(out.body);
}

/**
 * A request's body decoded, checked, built into rows and handed to the writer; undefined when it
 * was answered already (a 4xx).
 */
function receive(
  req: Request,
  res: Response,
  encoding: OtlpEncoding,
  deps: OtlpDeps,
): { rejected: SpanRejection[]; written: Promise<unknown> } | undefined {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  let decoded: ReturnType<typeof decodeTraces>;
  try {
    decoded = decodeTraces(body, encoding);
  } catch (err) {
    // A RangeError is a payload nested deeper than the decoder's stack: hostile input, not a server fault.
    if (!(err instanceof DecodeError) && !(err instanceof RangeError)) throw err;
    const reason = err instanceof DecodeError ? err.reason : encoding === 'json' ? 'invalid_json' : 'invalid_protobuf';
    deps.metrics.requestsRejected.inc({ reason });
    deps.log.info({ reason, detail: err.message }, 'OTLP request rejected');
    sendStatus(
      res,
      400,
      encoding,
      err instanceof DecodeError ? err.message : `invalid OTLP ${encoding}: nested too deeply`,
    );
    return undefined;
  }
  const spanCount = decoded.spans.length + decoded.rejected.length;
  if (spanCount > deps.limits.maxSpansPerRequest) {
    deps.metrics.requestsRejected.inc({ reason: 'too_many_spans' });
    deps.log.info({ reason: 'too_many_spans', spans: spanCount }, 'OTLP request rejected');
    sendStatus(
      res,
      413,
      encoding,
      `${spanCount} spans in one request, more than ${deps.limits.maxSpansPerRequest}: send smaller batches`,
    );
    return undefined;
  }
  const principal = req.principal!;
  // The tenant comes from the key. Only an operator key (tenant '*', e.g. the bootstrap
  // key behind a shared collector) may name the tenant in the span (ingest/README.md).
  const tenantOf = principal.tenant === '*' ? payloadTenant : () => principal.tenant;
  const limited = checkSpanLimits(decoded.spans, deps.limits);
  const built = buildRows(limited.spans, tenantOf, deps.pricer, Date.now(), deps.limits, deps.retentionDays);
  const rejected = [...decoded.rejected, ...limited.rejected, ...built.rejected];
  deps.metrics.spansReceived.inc(spanCount);
  for (const r of rejected) deps.metrics.spansRejected.inc({ reason: r.reason });
  if (rejected.length > 0) {
    deps.log.info({ rejected: rejected.length, first: rejected[0] }, 'OTLP spans rejected');
  }
  const dropped = built.droppedProperties;
  for (const d of dropped) deps.metrics.propertiesDropped.inc({ reason: d.reason });
  if (dropped.length > 0) {
    deps.log.info(
      { dropped: dropped.length, first: { ...dropped[0], name: dropped[0]!.name.slice(0, 64) } },
      'custom properties dropped',
    );
  }
  const refusedCosts = built.refusedCosts;
  for (const r of refusedCosts) deps.metrics.spanCostsRefused.inc({ reason: r.reason });
  if (refusedCosts.length > 0) {
    deps.log.info(
      { tenant: principal.tenant, refused: refusedCosts.length, first: refusedCosts[0] },
      'span costs not believed; priced at ingest',
    );
  }
  const repaired = Object.entries(decoded.repaired);
  for (const [reason, n] of repaired) deps.metrics.valuesRepaired.inc({ reason }, n);
  if (repaired.length > 0) {
    deps.log.info({ tenant: principal.tenant, repaired: decoded.repaired }, 'OTLP values repaired');
  }
  return { rejected, written: deps.writer.write(built.traces, built.calls) };
}

/** With the bootstrap admin key (no tenant of its own), the span's tokenmeter.tenant, else "default". */
function payloadTenant(span: SpanInput): string {
  const t = span.attributes[ATTR_TM_TENANT] ?? span.resource[ATTR_TM_TENANT];
  return typeof t === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(t) ? t : 'default';
}

function sendStatus(res: Response, status: number, encoding: OtlpEncoding, message: string): void {
  const out = encodeStatus(encoding, status === 503 ? 14 : 3, message);
  res.status(status).type(out.contentType).send(out.body);
}

function bodyError(err: unknown, encoding: OtlpEncoding, res: Response, deps: OtlpDeps): void {
  const e = err as { type?: string; status?: number; message?: string };
  const reason =
    e.type === 'entity.too.large'
      ? 'body_too_large'
      : e.type === 'encoding.unsupported'
        ? 'unsupported_encoding'
        : 'unreadable_body';
  deps.metrics.requestsRejected.inc({ reason });
  const status = e.type === 'entity.too.large' ? 413 : e.type === 'encoding.unsupported' ? 415 : 400;
  const message =
    status === 413
      ? `body larger than ${deps.maxBodyBytes} bytes (after decompression)`
      : status === 415
        ? 'Content-Encoding must be gzip, deflate or identity'
        : `unreadable body: ${e.message ?? 'aborted'}`;
  deps.log.info({ reason }, 'OTLP request rejected');
  sendStatus(res, status, encoding, message);
}
