import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS } from './all.js';
import { buildDashboard } from './dashboard.js';

/** dashboards/generated: the JSON Grafana provisions, committed, checked against a fresh build by a test. */
export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'generated');

/** Every dashboard as the exact text written to generated/<uid>.json. */
export function renderDashboards(): Map<string, string> {
  const files = new Map<string, string>();
  for (const spec of DASHBOARDS) files.set(`${spec.uid}.json`, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`);
  return files;
}

export function writeDashboards(dir = GENERATED_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const files = renderDashboards();
  for (const name of readdirSync(dir)) if (name.endsWith('.json') && !files.has(name)) rmSync(join(dir, name));
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return [...files.keys()];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of writeDashboards()) console.log(`wrote dashboards/generated/${name}`);
}
