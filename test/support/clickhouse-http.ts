import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';

/**
 * TEST CODE, NOT A CLICKHOUSE SERVER. A small HTTP front over embedded ClickHouse
 * (chdb) that speaks the part of ClickHouse's HTTP interface `@clickhouse/client`
 * uses, so tests can run the service over HTTP the way production does (there is no
 * modern ClickHouse server package here). What it covers:
 * - `GET|POST /ping` → `Ok.`;
 * - `POST /?query=…` with the SQL in the `query` parameter and/or the body; for an
 *   insert, the statement in `query` and the rows in the body;
 * - `database`, `default_format`, `query_id`, `param_<name>` (query parameters) and
 *   every other URL parameter as a setting, applied to that query only (a real server
 *   does not keep them; chdb would, so each distinct set of setting names runs on its
 *   own chdb session and the whole set is applied again every time);
 * - an insert body in a binary format (`FORMAT RowBinary…`/`Native`) as the bytes it is: written to
 *   a file the engine reads (`INSERT … SELECT * FROM file(…)`), since chdb's inline insert data
 *   is text (a body joined to the SQL would be corrupted);
 * - gzip/deflate request bodies, gzip responses with `enable_http_compression=1`;
 * - X-ClickHouse-Query-Id, -Format, -Timezone, -Summary headers; an exception is a
 *   500 with X-ClickHouse-Exception-Code and the `Code: N. DB::Exception: …` text.
 * Queries run one at a time, as chdb sessions are not meant to be shared concurrently.
 */

const HTTP_ONLY = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'enable_http_compression',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'compress',
  'decompress',
]);

interface ChdbSession {
  queryAsync(
    sql: string,
    opts?: { format?: string },
  ): Promise<{ bytes(): Uint8Array; rowsRead: number; bytesRead: number; elapsed: number }>;
  queryBindAsync(
    sql: string,
    params: object,
    opts?: { format?: string },
  ): Promise<{ bytes(): Uint8Array; rowsRead: number; bytesRead: number; elapsed: number }>;
  close(): void;
}

export interface ClickHouseHttpHarness {
  url: string;
  port: number;
  server: Server;
  /** Requests served, for tests that want to see the traffic. */
  requests: number;
  close(): Promise<void>;
}

export async function startClickHouseHttp(opts: { dataDir: string; port?: number }): Promise<ClickHouseHttpHarness> {
  const { Session } = (await import('chdb')) as unknown as { Session: new (path: string) => ChdbSession };
  const sessions = new Map<string, ChdbSession>();
  const sessionFor = (names: string) => {
    let s = sessions.get(names);
    if (!s) {
      s = new Session(opts.dataDir);
      sessions.set(names, s);
    }
    return s;
  };
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const harness: ClickHouseHttpHarness = {
    url: '',
    port: 0,
    requests: 0,
    // ClickHouse takes URLs up to 1 MiB (http_max_uri_size); query parameters travel in the URL.
    server: createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
      harness.requests++;
      handle(req, res).catch((err) => {
        if (!res.headersSent) fail(res, err as Error);
        else res.destroy();
      });
    }),
    async close() {
      await new Promise<void>((r) => {
        harness.server.close(() => r());
        harness.server.closeAllConnections();
      });
      await queue;
      for (const s of sessions.values()) s.close();
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://harness');
    if (url.pathname === '/ping') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    if (url.pathname !== '/') {
      res.writeHead(404).end(`There is no handle ${url.pathname}\n`);
      return;
    }
    const body = await readBody(req);
    const queryParam = url.searchParams.get('query') ?? '';
    const binaryInsert = /^(\s*INSERT\s+INTO\s+[\s\S]*?)\s+FORMAT\s+(RowBinary\w*|Native)\s*$/i.exec(queryParam);
    let bodyFile: string | undefined;
    let statement: string;
    if (binaryInsert && body.length > 0) {
      bodyFile = join(opts.dataDir, `http-body-${randomUUID()}.bin`);
      await writeFile(bodyFile, body);
      statement = `${binaryInsert[1]} SELECT * FROM file('${bodyFile}', '${binaryInsert[2]}')`;
    } else {
      const sqlBody = body.toString('utf8');
      statement = queryParam && sqlBody ? `${queryParam}\n${sqlBody}` : queryParam || sqlBody;
    }
    const params: Record<string, string> = {};
    const settings: [string, string][] = [];
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params[k.slice(6)] = v;
      else if (!HTTP_ONLY.has(k)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`Code: 115. DB::Exception: Unknown setting ${k}`);
        settings.push([k, v]);
      }
    }
    settings.sort(([a], [b]) => a.localeCompare(b));
    const database = url.searchParams.get('database');
    if (database && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
      throw new Error(`Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`);
    }
    const prelude = [
      ...(database ? [`USE ${database}`] : []),
      ...settings.map(
        ([k, v]) =>
          `SET ${k} = ${/^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`}`,
      ),
    ];
    const sql = prelude.length > 0 ? `${prelude.join('; ')}; ${statement}` : statement;
    const format = url.searchParams.get('default_format') ?? 'TabSeparated';
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    const session = sessionFor(settings.map(([k]) => k).join(','));
    const result = await serial(() =>
      Object.keys(params).length > 0
        ? session.queryBindAsync(sql, params, { format })
        : session.queryAsync(sql, { format }),
    ).finally(() => (bodyFile ? rm(bodyFile, { force: true }) : undefined));
    let out = Buffer.from(result.bytes());
    const headers: Record<string, string> = {
      'content-type': /JSON/.test(format) ? 'application/json; charset=UTF-8' : 'text/plain; charset=UTF-8',
      'x-clickhouse-query-id': queryId,
      'x-clickhouse-format': format,
      'x-clickhouse-timezone': 'UTC',
      'x-clickhouse-server-display-name': 'chdb-http-test-harness',
      'x-clickhouse-summary': JSON.stringify({
        read_rows: String(result.rowsRead ?? 0),
        read_bytes: String(result.bytesRead ?? 0),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(out.length),
        elapsed_ns: String(Math.round((result.elapsed ?? 0) * 1e9)),
      }),
    };
    if (
      url.searchParams.get('enable_http_compression') === '1' &&
      /gzip/.test(String(req.headers['accept-encoding']))
    ) {
      out = gzipSync(out);
      headers['content-encoding'] = 'gzip';
    }
    res.writeHead(200, headers).end(out);
  }

  harness.server.listen(opts.port ?? 0, '127.0.0.1');
  await new Promise<void>((r) => harness.server.once('listening', () => r()));
  harness.port = (harness.server.address() as AddressInfo).port;
  harness.url = `http://127.0.0.1:${harness.port}`;
  return harness;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const enc = String(req.headers['content-encoding'] ?? '');
  if (enc === 'gzip') return gunzipSync(raw);
  if (enc === 'deflate') return inflateSync(raw);
  return raw;
}

function fail(res: ServerResponse, err: Error): void {
  const message = err.message.startsWith('Code: ') ? err.message : `Code: 1000. DB::Exception: ${err.message}`;
  const code = /^Code: (\d+)/.exec(message)?.[1] ?? '1000';
  res
    .writeHead(500, {
      'content-type': 'text/plain; charset=UTF-8',
      'x-clickhouse-exception-code': code,
      'x-clickhouse-server-display-name': 'chdb-http-test-harness',
    })
    .end(`${message}\n`);
}
