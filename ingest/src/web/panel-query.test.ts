import { ALL } from '@tokenmeter/dashboards';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../http/auth.js';
import { type Dashboard, isMoneyColumn, panelRefusal, publicDashboard, readDashboards } from './dashboards.js';
import { panelSql, parseRange, parseVariables, RequestError } from './panel-query.js';
import { toFrame, toWide } from './results.js';

const dashboards = readDashboards();
const byUid = (uid: string) => dashboards.find((d) => d.uid === uid) as Dashboard;
const overview = byUid('tokenmeter-overview');
const admin: Principal = { keyId: 'a', role: 'admin', tenant: '*' };
const acmeRead: Principal = { keyId: 'r', role: 'read', tenant: 'acme' };
const acmeUser: Principal = { keyId: 'u', role: 'user', tenant: 'acme' };
const now = new Date('2026-11-23T12:00:00Z');

function refusal(fn: () => unknown): { status: number; reason: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof RequestError) return { status: err.status, reason: err.reason };
    throw err;
  }
}

describe('parseVariables', () => {
  it.each([
    ['a plain model', { 'var-model': 'gpt-4o' }, undefined],
    ['a Bedrock model id', { 'var-model': 'anthropic.claude-3-haiku-20240307-v1:0' }, undefined],
    ['a Google model path', { 'var-model': 'models/gemini-2.5-flash' }, undefined],
    ['an email as user', { 'var-user': 'alice@example.com' }, undefined],
    ['several values', { 'var-model': ['gpt-4o', 'gpt-4o-mini'] }, undefined],
    ['a quote', { 'var-model': "gpt-4o'" }, 'bad_variable'],
    ['a parenthesis', { 'var-model': 'x)' }, 'bad_variable'],
    ['a semicolon', { 'var-model': 'x;y' }, 'bad_variable'],
    ['a brace', { 'var-model': '{v:String}' }, 'bad_variable'],
    ['a dollar', { 'var-model': '$tenant' }, 'bad_variable'],
    ['a leading dash', { 'var-model': '--' }, 'bad_variable'],
    ['empty', { 'var-model': '' }, 'bad_variable'],
    ['a control character', { 'var-model': 'a\u0001' }, 'bad_variable'],
    ['257 characters', { 'var-model': `a${'b'.repeat(256)}` }, 'bad_variable'],
    ['an unknown variable', { 'var-nope': 'x' }, 'unknown_variable'],
    ['an object', { 'var-model': { a: 1 } }, 'bad_variable'],
  ])('%s', (_name, query, reason) => {
    expect(refusal(() => parseVariables(query, overview, admin))?.reason).toBe(reason);
  });

  it('sets absent variables to All, and forces a tenant key to its tenant', () => {
    expect(parseVariables({}, overview, admin)).toMatchObject({ tenant: [ALL], model: [ALL] });
    expect(parseVariables({}, overview, acmeRead).tenant).toEqual(['acme']);
    expect(parseVariables({ 'var-tenant': 'acme' }, overview, acmeRead).tenant).toEqual(['acme']);
    expect(refusal(() => parseVariables({ 'var-tenant': 'globex' }, overview, acmeRead))).toEqual({
      status: 403,
      reason: 'other_tenant',
    });
  });
});

describe('parseRange', () => {
  const ms = (iso: string) => String(Date.parse(iso));
  it.each([
    ['a day', { from: ms('2026-11-22T12:00:00Z'), to: ms('2026-11-23T12:00:00Z') }, undefined],
    ['missing from', { to: ms('2026-11-23T12:00:00Z') }, 'bad_range'],
    ['relative time', { from: 'now-7d', to: 'now' }, 'bad_range'],
    ['from after to', { from: ms('2026-11-23T12:00:00Z'), to: ms('2026-11-22T12:00:00Z') }, 'bad_range'],
    ['401 days', { from: ms('2025-10-18T12:00:00Z'), to: ms('2026-11-23T12:00:00Z') }, 'bad_range'],
    ['to next week', { from: ms('2026-11-22T12:00:00Z'), to: ms('2026-11-30T12:00:00Z') }, 'bad_range'],
    ['given twice', { from: [ms('2026-11-22T12:00:00Z'), '1'], to: ms('2026-11-23T12:00:00Z') }, 'bad_param'],
  ])('%s', (_name, query, reason) => {
    expect(refusal(() => parseRange(query, now))?.reason).toBe(reason);
  });
});

describe('panels', () => {
  it('every panel of every generated dashboard expands to bound SQL with no value spliced in', () => {
    const range = { from: new Date('2026-11-16T12:00:00Z'), to: now };
    for (const d of dashboards) {
      for (const p of d.panels) {
        const vars = parseVariables(
          Object.fromEntries(d.variables.map((v) => [`var-${v.name}`, 'needle-value'])),
          d,
          admin,
        );
        const bound = panelSql(p, range, 1000, vars);
        expect(bound.sql, `${d.uid} ${p.title}`).not.toContain('needle-value');
        expect(bound.sql).not.toMatch(/\$\{?\w/);
        for (const values of Object.values(bound.params)) expect(values).toEqual(['needle-value']);
      }
    }
  });

  it('a tenant key may not run a panel that spans every tenant; a user key no money panel', () => {
    const pipeline = byUid('tokenmeter-pipeline');
    expect(panelRefusal(pipeline, pipeline.panels[0]!, acmeRead)).toMatch(/operator/);
    expect(panelRefusal(pipeline, pipeline.panels[0]!, admin)).toBeUndefined();
    const cost = overview.panels.find((p) => p.title === 'Cost in range')!;
    expect(panelRefusal(overview, cost, acmeUser)).toMatch(/money/);
    expect(panelRefusal(overview, cost, acmeRead)).toBeUndefined();
    expect(publicDashboard(pipeline, acmeRead)).toBeUndefined();
  });

  it.each([
    ['tokenmeter-models', 'Models in range', 'cost', true],
    ['tokenmeter-models', 'Models in range', 'cost_per_call', true],
    ['tokenmeter-models', 'Models in range', 'calls', false],
    ['tokenmeter-models', 'Models in range', 'unpriced', false],
    ['tokenmeter-alerts', 'History', 'observed', true],
    ['tokenmeter-alerts', 'History', 'limit_value', true],
    ['tokenmeter-alerts', 'History', 'scope', false],
    ['tokenmeter-budgets', 'Burn rate and forecast', 'name', false],
    ['tokenmeter-budgets', 'Burn rate and forecast', 'burn_usd_per_day', true],
    ['tokenmeter-budgets', 'Hard-limited scopes', 'pct_used', false],
  ])('%s / %s: column %s is money: %s', (uid, title, column, money) => {
    const panel = byUid(uid).panels.find((p) => p.title === title)!;
    expect(isMoneyColumn(panel, column)).toBe(money);
  });

  it('a user key sees no SQL and no dollar sign in the dashboards it may see', () => {
    for (const d of dashboards) {
      const view = publicDashboard(d, acmeUser);
      if (view) expect(JSON.stringify(view)).not.toMatch(/\$|rawSql|SELECT/);
    }
  });
});

describe('toFrame', () => {
  it('reads numbers from strings (64-bit, decimals over HTTP), times as UTC milliseconds, and drops columns', () => {
    const frame = toFrame(
      {
        meta: [
          { name: 'time', type: "DateTime('UTC')" },
          { name: 'model', type: 'LowCardinality(String)' },
          { name: 'calls', type: 'UInt64' },
          { name: 'cost', type: 'Nullable(Decimal(38, 12))' },
        ],
        data: [
          ['2026-11-23 10:00:00', 'gpt-4o', '12', '0.123456789012'],
          ['2026-11-23 11:00:00', 'gpt-4o', 3, null],
        ],
      },
      (c) => c === 'model',
    );
    expect(frame).toEqual({
      rows: 2,
      fields: [
        {
          name: 'time',
          type: 'time',
          values: [Date.parse('2026-11-23T10:00:00Z'), Date.parse('2026-11-23T11:00:00Z')],
        },
        { name: 'calls', type: 'number', values: [12, 3] },
        { name: 'cost', type: 'number', values: [0.123456789012, null] },
      ],
    });
  });
});

describe('toWide', () => {
  it('turns (time, label, value) rows into one column per label on the distinct times', () => {
    const t1 = Date.parse('2026-11-23T10:00:00Z');
    const t2 = Date.parse('2026-11-23T11:00:00Z');
    const wide = toWide({
      rows: 3,
      fields: [
        { name: 'time', type: 'time', values: [t1, t1, t2] },
        { name: 'provider', type: 'string', values: ['openai', 'google', 'openai'] },
        { name: 'cost', type: 'number', values: [1.5, 0.25, 2] },
      ],
    });
    expect(wide).toEqual({
      rows: 2,
      fields: [
        { name: 'time', type: 'time', values: [t1, t2] },
        { name: 'openai', type: 'number', values: [1.5, 2] },
        { name: 'google', type: 'number', values: [0.25, null] },
      ],
    });
  });
});
