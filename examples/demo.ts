/**
 * `npm run demo`: start tokenmeter (the ingest service, embedded ClickHouse), run the example
 * express app under `node --import @tokenmeter/instrumentation/register` against a local server
 * that replays real-shaped OpenAI and Anthropic responses, send it a little traffic, and print
 * what was recorded: calls, tokens and cost by model and by user.
 *
 * Run with: npm run demo (npm run build && tsx examples/demo.ts)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplayServer } from '../test/replay/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function start(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d) => {
    log += d;
  });
  child.stderr?.on('data', (d) => {
    log += d;
  });
  child.on('exit', (code, signal) => {
    if (code && signal !== 'SIGTERM') console.error(`${name} exited with ${code}:\n${log.slice(-2000)}`);
  });
  children.push(child);
  return child;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const replay = await startReplayServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenmeter-demo-'));
  const adminKey = `tm_demo_${randomBytes(12).toString('hex')}`;
  const ingestPort = await freePort();
  const ingestUrl = `http://127.0.0.1:${ingestPort}`;
  console.log(`starting tokenmeter on ${ingestUrl} (data in ${dataDir})`);
  start('tokenmeter', ['ingest/dist/cli.js', 'serve'], {
    PORT: String(ingestPort),
    TOKENMETER_DATA_DIR: dataDir,
    TOKENMETER_ADMIN_KEY: adminKey,
    TOKENMETER_DEMO: 'false',
  });
  const query = async (sql: string) => {
    const res = await fetch(`${ingestUrl}/api/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql }),
    });
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: Record<string, unknown>[] }).data;
  };
  await until('tokenmeter', async () => (await query('SELECT 1 AS ok')).length > 0 || undefined);

  const appPort = await freePort();
  const appUrl = `http://127.0.0.1:${appPort}`;
  const app = start(
    'example app',
    ['--import', '@tokenmeter/instrumentation/register', 'examples/express-app/app.mjs'],
    {
      PORT: String(appPort),
      OPENAI_BASE_URL: `${replay.url}/v1`,
      ANTHROPIC_BASE_URL: replay.url,
      OTEL_SERVICE_NAME: 'example-app',
      OTEL_EXPORTER_OTLP_ENDPOINT: ingestUrl,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${adminKey}`,
    },
  );
  await until('the example app', async () => (await fetch(`${appUrl}/nope`)).status === 404 || undefined);

  console.log(`example app on ${appUrl}: sending traffic`);
  const traffic: [string, string, string][] = [
    ['alice', 'search', '/ask'],
    ['alice', 'search', '/ask-stream'],
    ['alice', 'search', '/summarise'],
    ['bob', 'support', '/ask'],
    ['bob', 'support', '/summarise'],
    ['bob', 'support', '/summarise'],
    ['carol', 'search', '/embed'],
    ['carol', 'search', '/ask'],
    ['carol', 'search', '/ask-stream'],
    ['dave', 'support', '/summarise'],
  ];
  for (const [user, team, path] of traffic) {
    const res = await fetch(`${appUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user, 'x-team': team },
      body: JSON.stringify({ question: 'What is the capital of France?', text: 'A contract with 14 clauses.' }),
    });
    await res.text();
  }
  // SIGTERM: the instrumentation flushes its spans before the app ends.
  app.kill('SIGTERM');
  await new Promise((r) => app.once('exit', r));
  const count = await until('the calls to be stored', async () => {
    const [row] = await query('SELECT count() AS n FROM ai_calls');
    return Number(row?.n) >= traffic.length ? Number(row?.n) : undefined;
  });

  const byModel = await query(`SELECT provider, model, count() AS calls, sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens, toString(sum(cost_usd)) AS usd
    FROM ai_calls GROUP BY provider, model ORDER BY provider, model`);
  const byUser = await query(`SELECT user_id AS user, team, groupUniqArray(feature) AS features, count() AS calls,
      sum(input_tokens + output_tokens) AS tokens, toString(sum(cost_usd)) AS usd
    FROM ai_calls GROUP BY user_id, team ORDER BY sum(cost_usd) DESC`);
  console.log(`\n${count} calls recorded\n\nby model`);
  console.table(byModel);
  console.log('by user');
  console.table(byUser);
  await replay.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });
