import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { type KeyResolver, type Principal, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import { readOnlySettings, type Store } from '../store/client.js';
import {
  CALL_FILTERS,
  CALL_MONEY_FIELDS,
  CALL_SQL,
  type CallFilter,
  callListSql,
  SPAN_ID_RE,
  TRACE_ID_RE,
} from './calls.js';
import { type Dashboard, isMoneyColumn, panelRefusal, publicDashboard, readDashboards } from './dashboards.js';
import { panelSql, parseMaxDataPoints, parseRange, parseVariables, RequestError, variableSql } from './panel-query.js';
import { type CompactResult, toFrame, toWide } from './results.js';

/** Limits of one panel query: read-only, bounded in time, memory and rows. */
export const PANEL_LIMITS = { maxExecutionSeconds: 20, maxMemoryBytes: 1024 ** 3, maxResultRows: 500_000 };

/** Where the bundled browser app lives: ingest/web/dist, next to src/ and dist/. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** What the browser app is made of, by the path it is served at: the file in WEB_DIST and its type. */
const WEB_ASSETS: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};

export interface WebDeps {
  store: Store;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  /** Overrides for tests: the dashboards to serve. */
  dashboards?: Dashboard[];
}

/**
 * The built-in web view: the browser app at `/`, and the API it draws with —
 * dashboards as JSON without SQL, panel data by (dashboard uid, panel id, variables,
 * range), variable options, the calls behind a table row, one call.
 */
export function webRouter(deps: WebDeps): Router {
  const router = Router();
  const dashboards = deps.dashboards ?? readDashboards();
  const byUid = new Map(dashboards.map((d) => [d.uid, d]));
  const viewer = requireRole('user', deps.keys, deps.metrics);
  const queries = new Counter({
    name: 'tokenmeter_web_queries_total',
    help: 'Queries the web view ran on ClickHouse, by kind (panel, variable, calls, call) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [deps.metrics.registry],
  });
  const refusals = new Counter({
    name: 'tokenmeter_web_refusals_total',
    help: 'Web view requests refused before anything ran, by reason',
    labelNames: ['reason'] as const,
    registers: [deps.metrics.registry],
  });

  async function run(kind: string, query: string, params: Record<string, unknown>): Promise<CompactResult> {
    try {
      const rs = await deps.store.reader.query({
        query,
        query_params: params,
        format: 'JSONCompact',
        clickhouse_settings: readOnlySettings(PANEL_LIMITS),
      });
      const body = (await rs.json()) as CompactResult;
      queries.inc({ kind, outcome: 'ok' });
      return body;
    } catch (err) {
      queries.inc({ kind, outcome: 'error' });
      throw err;
    }
  }

  /** Wraps a handler: RequestError → its status (counted as a refusal), anything else → 500. */
  const handle = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    fn(req, res).catch((err: unknown) => {
      if (err instanceof RequestError) {
        refusals.inc({ reason: err.reason });
        deps.log.info({ path: req.path, reason: err.reason, err: err.message }, 'web request refused');
        res.status(err.status).json({ error: err.message });
        return;
      }
      deps.log.error({ path: req.path, err: (err as Error).message }, 'web request failed');
      if (!res.headersSent) res.status(500).json({ error: 'query failed', detail: (err as Error).message });
    });
  };

  function dashboardOf(req: Request): Dashboard {
    const uid = String(req.params.uid);
    const dash = byUid.get(uid);
    if (!dash) throw new RequestError(404, `no dashboard '${uid.slice(0, 64)}'`, 'unknown_dashboard');
    return dash;
  }

  router.get(
    '/api/v1/web/session',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      res.json({
        keyId: p.keyId,
        role: p.role,
        tenant: p.tenant,
        money: p.role !== 'user',
        budgets: p.role !== 'user',
        // The same rules the write endpoints enforce (budgets, keys, prices routers).
        can: {
          editBudgets: p.role === 'admin',
          manageKeys: p.role === 'admin',
          managePrices: p.role === 'admin' && p.tenant === '*',
          advice: p.role === 'admin' || p.role === 'read',
        },
      });
    }),
  );

  router.get(
    '/api/v1/dashboards',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      const list = dashboards
        .map((d) => publicDashboard(d, p))
        .filter((d) => d !== undefined)
        .map((d) => ({ uid: d.uid, title: d.title, description: d.description, panels: d.panels.length }));
      res.json({ dashboards: list });
    }),
  );

  router.get(
    '/api/v1/dashboards/:uid',
    viewer,
    handle(async (req, res) => {
      const view = publicDashboard(dashboardOf(req), req.principal as Principal);
      if (!view) throw new RequestError(403, 'nothing on this dashboard is visible to this key', 'forbidden_dashboard');
      res.json(view);
    }),
  );

  router.get(
    '/api/v1/dashboards/:uid/panels/:id/data',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      const dash = dashboardOf(req);
      const idText = String(req.params.id);
      const panel = /^\d{1,6}$/.test(idText) ? dash.panels.find((x) => x.id === Number(idText)) : undefined;
      if (!panel)
        throw new RequestError(404, `dashboard ${dash.uid} has no panel '${idText.slice(0, 32)}'`, 'unknown_panel');
      const refusal = panelRefusal(dash, panel, p);
      if (refusal) throw new RequestError(403, refusal, 'forbidden_panel');
      const query = req.query as Record<string, unknown>;
      const range = parseRange(query);
      const maxDataPoints = parseMaxDataPoints(query);
      const variables = parseVariables(query, dash, p);
      const bound = panelSql(panel, range, maxDataPoints, variables);
      const started = performance.now();
      const result = await run('panel', bound.sql, bound.params);
      const drop = p.role === 'user' ? (c: string) => isMoneyColumn(panel, c) : () => false;
      res.set('Server-Timing', `db;dur=${(performance.now() - started).toFixed(1)}`);
      const frame = toFrame(result, drop);
      res.json(panel.format === 0 ? toWide(frame) : frame);
    }),
  );

  // Every panel of a dashboard in one request, each result streamed as one NDJSON line as
  // soon as its query is done: a browser opens at most 6 connections to a host, so one
  // request per panel would queue the slowest queries behind each other.
  router.get(
    '/api/v1/dashboards/:uid/data',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      const dash = dashboardOf(req);
      const query = req.query as Record<string, unknown>;
      const range = parseRange(query);
      const variables = parseVariables(query, dash, p);
      const asked = query.panel === undefined ? [] : Array.isArray(query.panel) ? query.panel : [query.panel];
      if (asked.length === 0 || asked.length > 100)
        throw new RequestError(400, 'panel must be given 1 to 100 times', 'bad_param');
      const jobs = asked.map((raw) => {
        const idText = String(raw);
        const panel = /^\d{1,6}$/.test(idText) ? dash.panels.find((x) => x.id === Number(idText)) : undefined;
        if (!panel)
          throw new RequestError(404, `dashboard ${dash.uid} has no panel '${idText.slice(0, 32)}'`, 'unknown_panel');
        const refusal = panelRefusal(dash, panel, p);
        if (refusal) throw new RequestError(403, refusal, 'forbidden_panel');
        const mdp = parseMaxDataPoints({ maxDataPoints: query[`mdp-${panel.id}`] });
        return { panel, bound: panelSql(panel, range, mdp, variables) };
      });
      res.status(200).type('application/x-ndjson');
      await Promise.all(
        jobs.map(async ({ panel, bound }) => {
          let line: string;
          try {
            const result = await run('panel', bound.sql, bound.params);
            const drop = p.role === 'user' ? (c: string) => isMoneyColumn(panel, c) : () => false;
            const frame = toFrame(result, drop);
            line = JSON.stringify({ id: panel.id, frame: panel.format === 0 ? toWide(frame) : frame });
          } catch (err) {
            deps.log.error({ dashboard: dash.uid, panel: panel.id, err: (err as Error).message }, 'panel query failed');
            line = JSON.stringify({ id: panel.id, error: 'query failed', detail: (err as Error).message });
          }
          res.write(`${line}\n`);
        }),
      );
      res.end();
    }),
  );

  router.get(
    '/api/v1/dashboards/:uid/variables/:name/options',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      const dash = dashboardOf(req);
      const name = String(req.params.name);
      const query = req.query as Record<string, unknown>;
      const range = parseRange(query);
      const variables = parseVariables(query, dash, p);
      if (name === 'tenant' && p.tenant !== '*') {
        res.json({ values: [p.tenant] }); // a tenant key's tenant list is its tenant
        return;
      }
      const bound = variableSql(dash, name, range, variables);
      const result = await run('variable', bound.sql, bound.params);
      res.json({ values: result.data.map((r) => String(r[0])) });
    }),
  );

  router.get(
    '/api/v1/calls',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      const query = req.query as Record<string, unknown>;
      const range = parseRange(query);
      const filters: Partial<Record<CallFilter, string>> = {};
      for (const name of Object.keys(CALL_FILTERS) as CallFilter[]) {
        const v = query[name];
        if (v === undefined || v === '') continue;
        if (typeof v !== 'string' || v.length > 256)
          throw new RequestError(400, `${name} must be one string`, 'bad_filter');
        filters[name] = v;
      }
      if (p.tenant !== '*') {
        if (filters.tenant !== undefined && filters.tenant !== p.tenant) {
          throw new RequestError(403, `a key of tenant ${p.tenant} sees only tenant ${p.tenant}`, 'other_tenant');
        }
        filters.tenant = p.tenant;
      }
      const { sql, params } = callListSql(filters, callProperties(query));
      const result = await run('calls', sql, {
        ...params,
        from: range.from.getTime(),
        to: range.to.getTime(),
        limit: 200,
      });
      const drop = (c: string) => p.role === 'user' && (CALL_MONEY_FIELDS as readonly string[]).includes(c);
      res.json(toFrame(result, drop));
    }),
  );

  router.get(
    '/api/v1/calls/:traceId/:spanId',
    viewer,
    handle(async (req, res) => {
      const p = req.principal as Principal;
      const traceId = String(req.params.traceId);
      const spanId = String(req.params.spanId);
      if (!TRACE_ID_RE.test(traceId) || !SPAN_ID_RE.test(spanId)) {
        throw new RequestError(400, 'trace id must be 32 and span id 16 lowercase hex characters', 'bad_call_id');
      }
      const result = await run('call', CALL_SQL, { trace_id: traceId, span_id: spanId, tenant: p.tenant });
      const frame = toFrame(result, (c) => p.role === 'user' && (CALL_MONEY_FIELDS as readonly string[]).includes(c));
      if (frame.rows === 0) throw new RequestError(404, 'no such call', 'unknown_call');
      const call: Record<string, unknown> = {};
      for (const f of frame.fields) call[f.name] = f.values[0];
      res.json({ call });
    }),
  );

  // The browser app. Content-Security-Policy: nothing but this origin, ever (the page works offline).
  const csp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  const hasApp = existsSync(`${WEB_DIST}index.html`);
  // Only the files the page loads, each with its type: not the source maps, the type
  // declarations or build info that also sit in dist/.
  if (hasApp) {
    for (const [path, [file, type]] of Object.entries(WEB_ASSETS)) {
      router.get(path, (_req, res) => {
        res.set('Content-Security-Policy', csp);
        res.type(type).sendFile(file, { root: WEB_DIST, maxAge: 0, dotfiles: 'deny' });
      });
    }
  }
  if (!hasApp) {
    router.get('/', (_req, res) => {
      res
        .status(503)
        .type('text/plain')
        .send('The web view is not built: run `npm run build` (it bundles ingest/web).\n');
    });
  }
  return router;
}

/**
 * Custom-property filters of the calls list: `property=<name>=<value>` (what a dashboard's
 * `$property` variable holds) and `property.<name>=<value>` (as in the usage API).
 */
function callProperties(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (name: string, value: unknown) => {
    if (typeof value !== 'string' || value.length > 4096 || !/^[A-Za-z0-9_.-]{1,256}$/.test(name)) {
      throw new RequestError(
        400,
        'a property filter is property=<name>=<value> or property.<name>=<value>',
        'bad_filter',
      );
    }
    if (value !== '') out[name] = value;
  };
  const pair = query.property;
  if (pair !== undefined && pair !== '') {
    const text = typeof pair === 'string' ? pair : '';
    const at = text.indexOf('=');
    add(at > 0 ? text.slice(0, at) : '', at > 0 ? text.slice(at + 1) : undefined);
  }
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('property.')) add(key.slice('property.'.length), value);
  }
  if (Object.keys(out).length > 16) throw new RequestError(400, 'at most 16 property filters', 'bad_filter');
  return out;
}
