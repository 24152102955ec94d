import { ConfigError } from '../config.js';

/**
 * Settings of the cost-truth jobs (reconciliation, price refresh), read by config.ts's
 * readConfig; the variable names are listed in config.ts's ENV_VARS. Drift alerts go to
 * the Alertmanager of config.budgets.alertmanagerUrl (ALERTMANAGER_URL).
 */
export interface CostConfig {
  /** When the daily reconciliation runs, UTC, as [hour, minute]. */
  reconcileAt: [number, number];
  /** |drift| above this percentage is a drift (and an alert). */
  driftThresholdPct: number;
  /** The tenant the providers' bills are compared with; '*' compares them with every tenant's total. */
  billingTenant: string;
  openai: { adminKey: string | undefined; baseUrl: string };
  anthropic: { adminKey: string | undefined; baseUrl: string };
  /** How often price overrides are re-read from ClickHouse. */
  pricesRefreshMs: number;
  /**
   * Which services' calls each OpenAI project / Anthropic workspace bills, so the bill can be
   * compared per project too: TOKENMETER_BILLING_PROJECTS="proj_abc=chat-api|search,wrkspc_1=batch-worker".
   */
  billingProjects: Record<string, string[]>;
}

export function readCostConfig(env: NodeJS.ProcessEnv): CostConfig {
  const at = env.TOKENMETER_RECONCILE_AT || '02:00';
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (!m) throw new ConfigError(`TOKENMETER_RECONCILE_AT must be HH:MM (UTC), got ${JSON.stringify(at)}`);
  const threshold = Number(env.TOKENMETER_DRIFT_THRESHOLD_PCT || '2');
  if (!Number.isFinite(threshold) || threshold <= 0 || threshold > 100) {
    throw new ConfigError(
      `TOKENMETER_DRIFT_THRESHOLD_PCT must be a percentage above 0 and at most 100, got ${JSON.stringify(env.TOKENMETER_DRIFT_THRESHOLD_PCT)}`,
    );
  }
  const refresh = Number(env.TOKENMETER_PRICES_REFRESH_SECONDS || '30');
  if (!Number.isInteger(refresh) || refresh < 1 || refresh > 86_400) {
    throw new ConfigError(
      `TOKENMETER_PRICES_REFRESH_SECONDS must be an integer from 1 to 86400, got ${JSON.stringify(env.TOKENMETER_PRICES_REFRESH_SECONDS)}`,
    );
  }
  return {
    reconcileAt: [Number(m[1]), Number(m[2])],
    driftThresholdPct: threshold,
    billingTenant: env.TOKENMETER_BILLING_TENANT || '*',
    openai: {
      adminKey: env.OPENAI_ADMIN_KEY || undefined,
      baseUrl: baseUrl(env, 'OPENAI_BILLING_BASE_URL', 'https://api.openai.com'),
    },
    anthropic: {
      adminKey: env.ANTHROPIC_ADMIN_KEY || undefined,
      baseUrl: baseUrl(env, 'ANTHROPIC_BILLING_BASE_URL', 'https://api.anthropic.com'),
    },
    pricesRefreshMs: refresh * 1000,
    billingProjects: parseProjects(env.TOKENMETER_BILLING_PROJECTS ?? ''),
  };
}

function baseUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/$/, '');
}

function parseProjects(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_.:-]+)=([^=]+)$/.exec(part);
    const services =
      m?.[2]
        ?.split('|')
        .map((s) => s.trim())
        .filter(Boolean) ?? [];
    if (!m || services.length === 0) {
      throw new ConfigError(
        `TOKENMETER_BILLING_PROJECTS must be project=service[|service…] items separated by commas, got ${JSON.stringify(part)}`,
      );
    }
    out[m[1]!] = services;
  }
  return out;
}
