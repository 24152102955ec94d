import type { InstrumentationOptions, UsageContextKey } from '../types.js';

/** The settled options, read once from the environment and overridden by `configure()`. */
export interface Settings {
  captureMessageContent: boolean;
  hashUserId: ((userId: string) => string) | undefined;
  baggageKeys: readonly UsageContextKey[];
}

const CONTEXT_KEYS: readonly UsageContextKey[] = ['tenant', 'userId', 'team', 'feature', 'sessionId', 'requestId'];

export function settingsFrom(options: InstrumentationOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const capture =
    options.captureMessageContent ?? env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.toLowerCase() === 'true';
  const hashOption = options.hashUserIds ?? env.TOKENMETER_HASH_USER_IDS?.toLowerCase() === 'true';
  const salt = options.userIdSalt ?? env.TOKENMETER_USER_ID_SALT ?? '';
  const hashUserId =
    typeof hashOption === 'function'
      ? hashOption
      : hashOption
        ? (id: string) => sha256().update(salt).update(id).digest('hex').slice(0, 32)
        : undefined;
  const baggageKeys =
    options.baggageKeys ??
    (env.TOKENMETER_BAGGAGE_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k): k is UsageContextKey => (CONTEXT_KEYS as string[]).includes(k));
  return {
    captureMessageContent: capture,
    hashUserId,
    baggageKeys,
  };
}

export let settings: Settings = settingsFrom({});

/** Change options at run time (also used by the instrumentation classes' constructors). */
export function configure(options: InstrumentationOptions): Settings {
  settings = settingsFrom(options);
  return settings;
}

/** node:crypto only when user ids are hashed: ~2 MiB that most processes never need (start.ts). */
function sha256(): import('node:crypto').Hash {
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256');
}
