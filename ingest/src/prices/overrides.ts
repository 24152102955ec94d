import { createHash } from 'node:crypto';
import type { PriceOverride } from '@tokenmeter/instrumentation/prices';
import { insertSettings, type Store } from '../store/client.js';
import { chDateTime, select, table } from '../retention/sql.js';

/**
 * The typed query module of `price_overrides` (migration 006). Rows are versioned:
 * the latest `updated_at` per id wins and `deleted = 1` removes. Overrides are the
 * installation's (the table has no tenant): a negotiated discount is the org's price.
 */

/** @pydantic/genai-prices price keys an override may set (USD per million tokens, or per thousand requests). */
export const PRICE_KEYS = [
  'input_mtok',
  'output_mtok',
  'cache_read_mtok',
  'cache_write_mtok',
  'cache_write_1h_mtok',
  'input_audio_mtok',
  'output_audio_mtok',
  'cache_audio_read_mtok',
  'requests_kcount',
] as const;

export interface StoredOverride extends PriceOverride {
  note: string;
  updatedAt: string;
}

export interface OverrideInput {
  id?: string;
  provider: string;
  model: string;
  effectiveFrom: string;
  prices: Record<string, number>;
  note?: string;
}

export class OverrideError extends Error {}

/** Check an override from the API or CLI; the message names the field. */
export function parseOverride(body: unknown): OverrideInput {
  if (!body || typeof body !== 'object') throw new OverrideError('body must be a JSON object');
  const b = body as Record<string, unknown>;
  const str = (k: string, re: RegExp, what: string) => {
    const v = b[k];
    if (typeof v !== 'string' || !re.test(v)) throw new OverrideError(`${k} must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  const provider = str('provider', /^[a-z0-9][a-z0-9._-]{0,63}$/, 'a provider id such as "openai"');
  const model = str('model', /^\S.{0,255}$/, 'a model name');
  const effective = b.effective_from ?? b.effectiveFrom;
  if (typeof effective !== 'string' || Number.isNaN(Date.parse(effective)) || !/^\d{4}-\d{2}-\d{2}/.test(effective)) {
    throw new OverrideError(`effective_from must be an ISO date or timestamp, got ${JSON.stringify(effective)}`);
  }
  const prices = b.prices;
  if (!prices || typeof prices !== 'object' || Array.isArray(prices)) {
    throw new OverrideError('prices must be an object such as {"input_mtok": 2.5, "output_mtok": 10}');
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(prices)) {
    if (!(PRICE_KEYS as readonly string[]).includes(k)) {
      throw new OverrideError(`prices.${k} is not a price key (one of ${PRICE_KEYS.join(', ')})`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1_000_000) {
      throw new OverrideError(`prices.${k} must be a non-negative number of USD, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  if (out.input_mtok === undefined && out.output_mtok === undefined) {
    throw new OverrideError('prices needs at least input_mtok or output_mtok');
  }
  const note = b.note === undefined ? '' : b.note;
  if (typeof note !== 'string' || note.length > 1000) throw new OverrideError('note must be text of ≤ 1000 characters');
  const id =
    b.id === undefined ? undefined : str('id', /^[A-Za-z0-9._:-]{1,128}$/, 'an id of letters, digits and ._:-');
  return { id, provider, model, effectiveFrom: new Date(effective).toISOString(), prices: out, note };
}

/** The id of an override: given, or derived from what it prices and from when. */
export function overrideId(o: OverrideInput): string {
  if (o.id) return o.id;
  return createHash('sha256')
    .update(`${o.provider}\u0000${o.model.toLowerCase()}\u0000${o.effectiveFrom}`)
    .digest('hex')
    .slice(0, 16);
}

/** Every override in force (latest version per id, not deleted). */
export async function listOverrides(store: Store): Promise<StoredOverride[]> {
  const rows = await select<{
    id: string;
    provider: string;
    model: string;
    effective_from: string;
    prices: Record<string, number>;
    note: string;
    updated_at: string;
  }>(
    store,
    `SELECT id, provider, model, effective_from, prices, note, last_updated AS updated_at
     FROM (
       SELECT id, argMax(provider, updated_at) AS provider, argMax(model, updated_at) AS model,
              argMax(effective_from, updated_at) AS effective_from, argMax(prices, updated_at) AS prices,
              argMax(note, updated_at) AS note, argMax(deleted, updated_at) AS deleted, max(updated_at) AS last_updated
       FROM ${table(store, 'price_overrides')} GROUP BY id
     )
     WHERE deleted = 0
     ORDER BY provider, model, effective_from, id`,
  );
  return rows.map((r) => ({
    id: r.id,
    provider: r.provider,
    model: r.model,
    effectiveFrom: chToIso(r.effective_from),
    prices: Object.fromEntries(Object.entries(r.prices).map(([k, v]) => [k, Number(v)])),
    note: r.note,
    updatedAt: chToIso(r.updated_at),
  }));
}

/** Write a new version of an override (or its removal). Returns the stored id. */
export async function putOverride(
  store: Store,
  o: OverrideInput,
  opts: { deleted?: boolean; now?: Date } = {},
): Promise<string> {
  const id = overrideId(o);
  const updatedAt = (opts.now ?? new Date()).getTime();
  await store.writer.insert({
    table: table(store, 'price_overrides'),
    format: 'JSONEachRow',
    values: [
      {
        id,
        provider: o.provider,
        model: o.model,
        effective_from: chDateTime(new Date(o.effectiveFrom)),
        prices: o.prices,
        note: o.note ?? '',
        updated_at: chDateTime(new Date(updatedAt)),
        deleted: opts.deleted ? 1 : 0,
      },
    ],
    clickhouse_settings: insertSettings(`price-override-${id}-${updatedAt}-${opts.deleted ? 1 : 0}`),
  });
  return id;
}

/** ClickHouse's 'YYYY-MM-DD hh:mm:ss.sss' (UTC) → ISO 8601. */
export function chToIso(v: string): string {
  return `${v.replace(' ', 'T')}${v.includes('.') ? '' : '.000'}Z`;
}
