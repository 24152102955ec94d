/**
 * `node --import @tokenmeter/instrumentation/register app.mjs` (ESM) or
 * `node -r @tokenmeter/instrumentation/register app.js` (CommonJS): zero code changes.
 * Hooks ESM loads of the instrumented SDKs (and only those, however they are named: see
 * esm-hooks.ts), then starts (see start.ts). Loads nothing else: start-up is paid by every
 * process, AI calls or not (see start.ts).
 */
/**
 * Under `-r`, Node also runs this file in the ESM loader's hooks thread, which the `register()`
 * below creates (nodejs/node#52377): nothing is instrumented there, and a second start would
 * export, poll the budget guard and warn from that thread too. The thread inherits the
 * environment at its creation, so a mark set only around `register()` tells it apart from the
 * app's own worker threads (which are instrumented as usual). Nothing is loaded in that thread.
 * Where Node says so itself (`isInternalThread`, Node 22.14+), that also covers a loader thread
 * that someone else's `module.register` starts (ours, on Node 22, runs in the app's thread).
 */
const LOADER_THREAD_MARK = 'TOKENMETER_INTERNAL_LOADER_THREAD';
const inLoaderThread = () =>
  process.env[LOADER_THREAD_MARK] === '1' ||
  (require('node:worker_threads') as { isInternalThread?: boolean }).isInternalThread === true;

if (!inLoaderThread()) {
  const { recordFault } = require('./core/faults.js') as typeof import('./core/faults.js');
  if (process.env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true') {
    process.env[LOADER_THREAD_MARK] = '1';
    try {
      const { INSTRUMENTED_MODULES } =
        require('./instrumentations/targets.js') as typeof import('./instrumentations/targets.js');
      // In the app's thread where Node can (22+), else a loader thread (esm-hooks.ts).
      (require('./esm-hooks.js') as typeof import('./esm-hooks.js')).registerEsmHooks(INSTRUMENTED_MODULES, __filename);
    } catch (err) {
      recordFault('register.esm-hook', err);
    } finally {
      delete process.env[LOADER_THREAD_MARK];
    }
  }
  (require('./start.js') as typeof import('./start.js')).start();
}
