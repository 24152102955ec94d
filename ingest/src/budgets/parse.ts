import { HttpError } from '../usage/request.js';
import {
  DEFAULT_THRESHOLDS,
  MODES,
  PERIODS,
  type Budget,
  type BudgetMode,
  type BudgetScope,
  type Period,
} from './types.js';

/** What a client may send to create or change a budget. */
export interface BudgetInput {
  name: string;
  scope: BudgetScope;
  period: Period;
  amountUsd: string;
  mode: BudgetMode;
  thresholds: number[];
}

const DECIMAL = /^(0|[1-9]\d{0,15})(\.\d{1,12})?$/;

/** Validate a budget body; `base` fills in what a partial update leaves out. 400 names the field. */
export function parseBudgetInput(body: unknown, base?: Budget): BudgetInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const known = new Set(['name', 'scope', 'period', 'amountUsd', 'amount_usd', 'mode', 'thresholds', 'tenant', 'id']);
  for (const k of Object.keys(b)) if (!known.has(k)) throw new HttpError(400, `unknown field '${k}'`);

  const name = b.name === undefined ? (base?.name ?? '') : b.name;
  if (typeof name !== 'string' || name.length > 200)
    throw new HttpError(400, 'name must be a string of at most 200 characters');

  const scope: BudgetScope = { ...(base?.scope ?? { team: '', user: '', feature: '', model: '' }) };
  if (b.scope !== undefined) {
    if (b.scope === null || typeof b.scope !== 'object' || Array.isArray(b.scope)) {
      throw new HttpError(400, 'scope must be an object with any of team, user, feature, model');
    }
    const s = b.scope as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (!(k in scope)) throw new HttpError(400, `scope.${k} is not a scope field (team, user, feature, model)`);
      const v = s[k] ?? '';
      if (typeof v !== 'string' || v.length > 256 || hasControl(v)) {
        throw new HttpError(400, `scope.${k} must be a string of at most 256 printable characters`);
      }
      scope[k as keyof BudgetScope] = v;
    }
  }

  const period = b.period === undefined ? base?.period : b.period;
  if (!PERIODS.includes(period as Period)) {
    throw new HttpError(400, `period must be one of ${PERIODS.join(', ')}, got ${JSON.stringify(period)}`);
  }

  const rawAmount = b.amountUsd ?? b.amount_usd ?? base?.amountUsd;
  const amountUsd = typeof rawAmount === 'number' ? String(rawAmount) : rawAmount;
  if (typeof amountUsd !== 'string' || !DECIMAL.test(amountUsd) || Number(amountUsd) <= 0) {
    throw new HttpError(400, `amountUsd must be a positive decimal number of USD, got ${JSON.stringify(rawAmount)}`);
  }

  const mode = b.mode === undefined ? (base?.mode ?? 'soft') : b.mode;
  if (!MODES.includes(mode as BudgetMode))
    throw new HttpError(400, `mode must be soft or hard, got ${JSON.stringify(mode)}`);

  const thresholds = b.thresholds === undefined ? (base?.thresholds ?? [...DEFAULT_THRESHOLDS]) : b.thresholds;
  if (
    !Array.isArray(thresholds) ||
    thresholds.length === 0 ||
    thresholds.length > 10 ||
    !thresholds.every((t) => Number.isInteger(t) && t >= 1 && t <= 1000)
  ) {
    throw new HttpError(400, 'thresholds must be 1 to 10 whole percentages from 1 to 1000');
  }
  return {
    name,
    scope,
    period: period as Period,
    amountUsd,
    mode: mode as BudgetMode,
    thresholds: [...new Set(thresholds as number[])].sort((x, y) => x - y),
  };
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}
