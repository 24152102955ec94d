/**
 * What `@tokenmeter/instrumentation/register` loads: register.ts and the modules it runs at
 * start, bundled into one file (scripts/bundle-register.mjs; one module to resolve instead of
 * ~14, bench/startup). Kept this small because under `--import` Node scans the CommonJS file it
 * is given for its exports. Built with `tsc` alone (no bundle), register.js itself.
 */
try {
  require('./register.bundle.js');
} catch (err) {
  if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND' || !String(err).includes('register.bundle.js')) throw err;
  require('./register.js');
}

export {};
