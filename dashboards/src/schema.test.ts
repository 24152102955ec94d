import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS } from './all.js';
import { parse } from 'yaml';
import { ALERT_RULES_FILE, GENERATED_DIR, listGenerated, README, renderGenerated, renderReadme } from './generate.js';
import { SDK_VERSION, schemaFor } from './schema.test-support.js';

const generated = readdirSync(GENERATED_DIR).filter((f) => f.endsWith('.json'));
const load = (file: string) => JSON.parse(readFileSync(join(GENERATED_DIR, file), 'utf8'));

function compile(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('generated JSON is what the TypeScript builds', () => {
  it('has one file per dashboard plus the alert rules, each equal to a fresh build (run `npm run dashboards`)', () => {
    const fresh = renderGenerated();
    expect(listGenerated()).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) {
      expect(readFileSync(join(GENERATED_DIR, name), 'utf8'), `${name} is stale`).toBe(text);
    }
  });

  it('the README panel reference is the one the specs produce', () => {
    // Compared modulo the table padding a formatter may add.
    const squash = (t: string) => t.replace(/ {2,}/g, ' ').replace(/-{3,}/g, '---');
    const current = readFileSync(README, 'utf8');
    expect(squash(current), 'run `npm run dashboards`').toBe(squash(renderReadme(current)));
  });

  it('has unique dashboard uids and panel titles', () => {
    expect(new Set(DASHBOARDS.map((d) => d.uid)).size).toBe(DASHBOARDS.length);
    for (const file of generated) {
      const titles = load(file)
        .panels.filter((p: { type: string }) => p.type !== 'row')
        .map((p: { title: string }) => p.title);
      expect(new Set(titles).size, file).toBe(titles.length);
    }
  });
});

describe(`foundation SDK ${SDK_VERSION} schema`, () => {
  let dashboard: ValidateFunction;
  beforeAll(() => {
    dashboard = compile(schemaFor('dashboard', 'Dashboard'));
  });

  it.each(generated)('%s validates against dashboard.Dashboard', (file) => {
    const ok = dashboard(load(file));
    expect(dashboard.errors ?? [], JSON.stringify(dashboard.errors?.slice(0, 5))).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema is not vacuous: unknown keys and wrong types fail', () => {
    const good = load(generated[0] as string);
    expect(dashboard({ ...good, bogus: 1 })).toBe(false);
    expect(dashboard({ ...good, title: 42 })).toBe(false);
    expect(dashboard({ ...good, panels: [{ ...good.panels[1], gridPos: { x: 'left' } }] })).toBe(false);
    expect(dashboard({ ...good, graphTooltip: 7 })).toBe(false);
  });

  const PANEL_TYPES = ['stat', 'timeseries', 'table', 'bargauge', 'piechart'];
  it.each(PANEL_TYPES)("%s panels' options and custom field config validate against the panel's own types", (type) => {
    const options = compile(schemaFor(type, 'Options'));
    let custom: ValidateFunction | undefined;
    try {
      custom = compile(schemaFor(type, 'FieldConfig'));
    } catch {
      custom = undefined; // the panel has no custom field config (stat, bargauge)
    }
    let seen = 0;
    for (const file of generated) {
      for (const panel of load(file).panels.filter((p: { type: string }) => p.type === type)) {
        seen++;
        expect(options(panel.options), `${file} ${panel.title}: ${JSON.stringify(options.errors)}`).toBe(true);
        const c = panel.fieldConfig?.defaults?.custom;
        if (custom && c) expect(custom(c), `${file} ${panel.title}: ${JSON.stringify(custom.errors)}`).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(0);
  });
});

describe(`foundation SDK ${SDK_VERSION} alerting schema`, () => {
  it('every provisioned rule validates against alerting.Rule (group fields folded in)', () => {
    const rule = compile(schemaFor('alerting', 'Rule'));
    const doc = parse(readFileSync(join(GENERATED_DIR, ALERT_RULES_FILE), 'utf8'));
    let n = 0;
    for (const group of doc.groups) {
      for (const r of group.rules) {
        n++;
        const api = { ...r, folderUID: group.folder, orgID: group.orgId, ruleGroup: group.name };
        expect(rule(api), `${r.uid}: ${JSON.stringify(rule.errors)}`).toBe(true);
      }
    }
    expect(n).toBe(7);
    expect(rule({ title: 'x' })).toBe(false);
  });

  it('the notification policy validates against alerting.NotificationPolicy', () => {
    const policy = compile(schemaFor('alerting', 'NotificationPolicy'));
    const doc = parse(
      readFileSync(join(GENERATED_DIR, '..', '..', 'deploy/grafana/provisioning/alerting/notifications.yaml'), 'utf8'),
    );
    const { orgId: _org, ...tree } = doc.policies[0];
    expect(policy(tree), JSON.stringify(policy.errors)).toBe(true);
  });
});
