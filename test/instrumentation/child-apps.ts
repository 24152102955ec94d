/**
 * For tests that run an app in its own Node process (under `register`, bundled, in odd package
 * layouts): the built instrumentation, this file's replay server and OTLP/HTTP receiver (started
 * before its tests, reset before each, closed after), and `runApp` with the environment that
 * points the app's SDKs at the replay and its spans at the receiver.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { FIXTURES } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildApps {
  replay: ReplayServer;
  otlp: OtlpReceiver;
}

/** Builds instrumentation/dist, starts both servers; `setup` (built files, layouts) runs before them. */
export function useChildApps(setup?: () => void | Promise<void>): ChildApps {
  const live: Partial<ChildApps> = {};
  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-b', 'instrumentation'], { cwd: repoRoot, stdio: 'pipe' });
    await setup?.();
    live.replay = await startReplayServer();
    live.otlp = await startOtlpReceiver();
  }, 300_000);
  afterAll(async () => {
    await live.replay?.close();
    await live.otlp?.close();
  });
  beforeEach(() => {
    live.replay?.reset();
    live.otlp?.reset();
  });
  const get = <K extends keyof ChildApps>(k: K): ChildApps[K] => {
    const v = live[k];
    if (!v) throw new Error('the servers start in beforeAll');
    return v;
  };
  return {
    get replay() {
      return get('replay');
    },
    get otlp() {
      return get('otlp');
    },
  };
}

export interface AppRun {
  code: number | null;
  out: string;
  err: string;
}

/** `node ...args` from the repository root, SDKs aimed at the replay, spans at the receiver. */
export function runApp(apps: ChildApps, args: string[], env: Record<string, string> = {}): Promise<AppRun> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      REPLAY_URL: apps.replay.url,
      REPLAY_H2_URL: apps.replay.h2Url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_MODEL: FIXTURES.openaiChat.ok.model,
      ANTHROPIC_MODEL: FIXTURES.anthropicMessages.ok.model,
      BEDROCK_MODEL: FIXTURES.bedrockConverse.ok.model,
      ANTHROPIC_OPEN_TELEMETRY: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: apps.otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

/** The app's last stdout line, as JSON. */
export const lastLine = (s: string) => JSON.parse(s.trim().split('\n').at(-1) ?? '{}');
