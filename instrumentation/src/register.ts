/**
 * `node --import @tokenmeter/instrumentation/register app.mjs` (ESM) or
 * `node -r @tokenmeter/instrumentation/register app.js` (CommonJS): zero code changes.
 * Hooks ESM loads of the instrumented SDKs (and only those, however they are named: see
 * loader-hook.mts), then starts (see start.ts).
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { recordFault } from './core/faults.js';
import { INSTRUMENTED_MODULES } from './instrumentations/index.js';
import { start } from './start.js';

/**
 * Under `-r`, Node also runs this file in the ESM loader's hooks thread, which the `register()`
 * below creates (nodejs/node#52377): nothing is instrumented there, and a second start would
 * export, poll the budget guard and warn from that thread too. The thread inherits the
 * environment at its creation, so a mark set only around `register()` tells it apart from the
 * app's own worker threads (which are instrumented as usual).
 */
const LOADER_THREAD_MARK = 'TOKENMETER_INTERNAL_LOADER_THREAD';

if (process.env[LOADER_THREAD_MARK] !== '1') {
  if (process.env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true') {
    process.env[LOADER_THREAD_MARK] = '1';
    try {
      const register = (nodeModule as { register?: typeof nodeModule.register }).register;
      // import-in-the-middle's hook, matching packages by their package.json name (loader-hook.mts).
      register?.('./loader-hook.mjs', pathToFileURL(__filename), {
        data: { packages: INSTRUMENTED_MODULES },
      });
    } catch (err) {
      recordFault('register.esm-hook', err);
    } finally {
      delete process.env[LOADER_THREAD_MARK];
    }
  }
  start();
}
