// For late-api.test.ts: an ES module that first uses OpenTelemetry late, after start-up (when
// register has loaded none of it), loading the API and the rest with `import` (late-api-body.cjs).
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import lateApiApp from './late-api-body.cjs';

const require = createRequire(import.meta.url);
const otelBefore = Object.keys(require.cache).filter((f) => f.includes('/@opentelemetry/'));
await sleep(5);
await lateApiApp(await import('@opentelemetry/api'), (name) => import(name), otelBefore);
