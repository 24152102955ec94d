// For late-api.test.ts: late-api.mjs as a CommonJS app (`require` of the API and the rest, late).
const { setTimeout: sleep } = require('node:timers/promises');
const lateApiApp = require('./late-api-body.cjs');

async function main() {
  const otelBefore = Object.keys(require.cache).filter((f) => f.includes('/@opentelemetry/'));
  await sleep(5);
  await lateApiApp(require('@opentelemetry/api'), async (name) => require(name), otelBefore);
}
main();
