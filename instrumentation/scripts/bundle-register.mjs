/**
 * Bundles what `register` runs at start into one file, `dist/register.bundle.js` (after `tsc -b`;
 * `npm run build` runs both). Start-up is paid by every process: on Node 20, the ~14 small
 * modules register loads at start made Node's CommonJS loader normalise enough path text that V8
 * optimised its `normalizeString` during start-up, ~3 MiB of peak memory (bench/startup). One
 * file is one resolution. Only the modules register runs at start are inlined (START); every other
 * module they `require` (an SDK's patch, the tracer, the budget guard, esm-include for the loader)
 * stays a file of its own in dist/, loaded when needed as before. (esm-include is inlined for Node
 * 22+, where ESM hooks run in the app's thread; Node 20's loader thread loads its own file.) State that outlives a module
 * (the registry, fault counts) is kept on `globalThis` (core/registry.ts), so a module loaded
 * both inside the bundle and from its own file shares it.
 */
import { build } from 'esbuild';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const START = [
  'register.js',
  'esm-hooks.js',
  'start.js',
  'core/config.js',
  'core/deferred.js',
  'core/faults.js',
  'core/globals.js',
  'core/otel-api.js',
  'core/registry.js',
  'core/unseen-calls.js',
  'instrumentations/esm-include.js',
  'instrumentations/lazy.js',
  'instrumentations/package-hooks.js',
  'instrumentations/packages.js',
  'instrumentations/targets.js',
].map((f) => resolve(dist, f));
const inlined = new Set();

await build({
  entryPoints: [resolve(dist, 'register.js')],
  outfile: resolve(dist, 'register.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'start-modules-only',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point') return undefined;
          // Packages and Node's modules: required at run time as before.
          if (!args.path.startsWith('.')) return { path: args.path, external: true };
          const file = resolve(dirname(args.importer), args.path);
          if (START.includes(file)) {
            inlined.add(file);
            return { path: file };
          }
          // Loaded when needed, from its own file: the path relative to the bundle (in dist/).
          return { path: `./${relative(dist, file)}`, external: true };
        });
      },
    },
  ],
});

// A start module no longer reached (renamed, or no longer loaded at start): say so, not silently.
const missing = START.filter((f) => f !== resolve(dist, 'register.js') && !inlined.has(f));
if (missing.length > 0) {
  console.error(`bundle-register: not reached from register.js: ${missing.map((f) => relative(dist, f)).join(', ')}`);
  process.exit(1);
}
