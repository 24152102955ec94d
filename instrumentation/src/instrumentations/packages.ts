import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Which package a loaded file belongs to, by the `name` in its own package.json, not by the
 * name it was imported under: Turbopack's hashed externals (`openai-f0ed28f090f94724`), npm
 * aliases (`ai-v5` → `ai`), pnpm's `.pnpm/<pkg>@<v>/node_modules/<pkg>` and symlinked layouts
 * all resolve to a directory whose package.json still says `openai` or `ai`.
 */
export interface PackageInfo {
  name: string;
  version: string | undefined;
  dir: string;
}

const byDir = new Map<string, PackageInfo | null>();

/** The nearest package.json with a `name` at or above `dir` (nested `{"type":"module"}` files are skipped). */
export function packageOf(dir: string): PackageInfo | undefined {
  const seen: string[] = [];
  let found: PackageInfo | null = null;
  for (let d = dir; ;) {
    const cached = byDir.get(d);
    if (cached !== undefined) {
      found = cached;
      break;
    }
    seen.push(d);
    const pkg = readPackageJson(d);
    if (pkg) {
      found = { name: pkg.name, version: pkg.version, dir: d };
      break;
    }
    const parent = dirname(d);
    if (parent === d || d.endsWith('/node_modules')) break;
    d = parent;
  }
  for (const d of seen) byDir.set(d, found);
  return found ?? undefined;
}

/** `openai`, `@scope/pkg`, `openai-f0ed28f090f94724`: a package's entry, not a file, a URL or a subpath. */
export function isPackageEntry(specifier: string): boolean {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.includes(':')) return false;
  const slashes = specifier.split('/').length - 1;
  return specifier.startsWith('@') ? slashes === 1 : slashes === 0;
}

/** The package of a file (an absolute path). */
export function packageOfFile(file: string): PackageInfo | undefined {
  return packageOf(dirname(file));
}

function readPackageJson(dir: string): { name: string; version?: string } | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    if (typeof pkg.name !== 'string' || pkg.name === '') return undefined;
    return { name: pkg.name, version: typeof pkg.version === 'string' ? pkg.version : undefined };
  } catch {
    return undefined;
  }
}

/**
 * `version` within one of `ranges`, each of the form `>=A.B.C <D` (the only form our targets use;
 * OTel's semver is internal to @opentelemetry/instrumentation). Prereleases count as their release.
 */
export function inVersionRange(version: string | undefined, ranges: string[]): boolean {
  if (!version) return ranges.includes('*');
  const v = parseVersion(version);
  if (!v) return false;
  return ranges.some((range) => {
    if (range === '*') return true;
    return range
      .trim()
      .split(/\s+/)
      .every((part) => {
        const m = /^(>=|<=|>|<|=)?(.+)$/.exec(part);
        const bound = m?.[2] ? parseVersion(m[2]) : undefined;
        if (!m || !bound) return false;
        const c = compare(v, bound);
        switch (m[1]) {
          case '>=':
            return c >= 0;
          case '>':
            return c > 0;
          case '<=':
            return c <= 0;
          case '<':
            return c < 0;
          default:
            return c === 0;
        }
      });
  });
}

function parseVersion(s: string): [number, number, number] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
