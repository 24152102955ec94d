import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAlertRules } from './alert-rules.js';
import { DASHBOARDS } from './all.js';
import { buildDashboard } from './dashboard.js';

/**
 * dashboards/generated: what Grafana provisions, committed, and checked against a fresh
 * build by a test: one JSON file per dashboard, and the alert rules as provisioning YAML.
 */
export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'generated');
export const ALERT_RULES_FILE = 'alerting/tokenmeter-rules.yaml';

/** Every generated file as the exact text written, keyed by its path under generated/. */
export function renderGenerated(): Map<string, string> {
  const files = new Map<string, string>();
  for (const spec of DASHBOARDS) files.set(`${spec.uid}.json`, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`);
  files.set(ALERT_RULES_FILE, renderAlertRules());
  return files;
}

/** The generated files on disk, as paths under generated/. */
export function listGenerated(dir = GENERATED_DIR): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export function writeGenerated(dir = GENERATED_DIR): string[] {
  const files = renderGenerated();
  mkdirSync(dir, { recursive: true });
  for (const name of listGenerated(dir)) if (!files.has(name)) rmSync(join(dir, name));
  for (const [name, text] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return [...files.keys()];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of writeGenerated()) console.log(`wrote dashboards/generated/${name}`);
}
