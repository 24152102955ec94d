/**
 * `node --import @tokenmeter/instrumentation/register app.mjs` (ESM) or
 * `node -r @tokenmeter/instrumentation/register app.js` (CommonJS): zero code changes.
 * Hooks ESM loads of the instrumented SDKs (and only those), then starts (see start.ts).
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { recordFault } from './core/faults.js';
import { INSTRUMENTED_MODULES } from './instrumentations/index.js';
import { start } from './start.js';

if (process.env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true') {
  try {
    const register = (nodeModule as { register?: typeof nodeModule.register }).register;
    register?.('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename), {
      data: { include: INSTRUMENTED_MODULES },
    });
  } catch (err) {
    recordFault('register.esm-hook', err);
  }
}
start();
