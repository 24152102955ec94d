import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';

/**
 * The last word on an error no route answered itself. A client's mistake that only surfaces
 * here — a body over its route's limit (413), JSON that does not parse or holds a lone
 * surrogate (400), a charset or encoding we do not read (415), a path parameter that is not
 * valid percent-encoding (400), an HttpError thrown from an async route — gets its own 4xx
 * with the reason. Only what is left is our bug: logged at error level, answered 500.
 */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = clientStatus(err);
    if (status !== undefined) {
      log.info({ status, path: req.path, err: (err as Error).message }, 'request refused');
      if (!res.headersSent) res.status(status).json({ error: clientMessage(err as Error, status) });
      else res.destroy();
      return;
    }
    log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'unhandled error');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  };
}

/** The 4xx an error carries (http-errors' `status`, set by body-parser, the router and our HttpError), if any. */
function clientStatus(err: unknown): number | undefined {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : NaN;
  return status >= 400 && status < 500 ? status : undefined;
}

function clientMessage(err: Error, status: number): string {
  const type = (err as { type?: string }).type;
  const limit = (err as { limit?: number }).limit;
  if (type === 'entity.too.large') return `body larger than ${limit ?? 'the limit of'} bytes`;
  if (type === 'entity.parse.failed') return `invalid JSON body: ${err.message.slice(0, 200)}`;
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return err.message.slice(0, 200);
  if (err instanceof URIError) return 'the path is not valid percent-encoded UTF-8';
  return status === 413 ? 'body too large' : err.message.slice(0, 300) || 'bad request';
}

/**
 * A JSON body parser for the API routes: express.json with the route's size limit, and no
 * string or key that is not valid Unicode (a lone surrogate, as JSON.stringify writes for a
 * string cut inside an emoji): ClickHouse refuses those, so they are a 400 here, by field.
 */
export function jsonBody(limit: string): RequestHandler {
  return express.json({
    limit,
    reviver(key: string, value: unknown) {
      if (hasLoneSurrogate(key) || (typeof value === 'string' && hasLoneSurrogate(value))) {
        throw new Error(`the value of '${wellFormed(key).slice(0, 64)}' is not valid Unicode (a lone surrogate)`);
      }
      return value;
    },
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function wellFormed(s: string): string {
  return s.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}
