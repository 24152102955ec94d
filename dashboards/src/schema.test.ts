import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS } from './all.js';
import { GENERATED_DIR, listGenerated, README, renderGenerated, renderReadme } from './generate.js';
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
