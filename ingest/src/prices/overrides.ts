import { createHash } from 'node:crypto';
import type { PriceOverride } from '@tokenmeter/instrumentation/prices';
import { insertSettings, type Store } from '../store/client.js';
import { chDateTime, select, table } from '../retention/sql.js';

/**
 * The typed query module of `price_overrides` (migrations 006, 031). Rows are versioned:
 * the latest `updated_at` per id wins and `deleted = 1` removes. An override is global
 * (tenant '') or one tenant's (a customer's negotiated rate); model '*' is a default price
 * for models no catalogue knows, `<model>:batch` a model's batch price.
 */

/**
 * @pydantic/genai-prices price keys an override may set: USD per million tokens, per thousand
 * requests, and for items priced per unit, per hour of transcribed audio and per million
 * characters of speech input.
 */
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
  'audio_hours',
  'input_mchars',
  'web_searches_kcount',
  'storage_searches_kcount',
] as const;

/** Keys that price a model on their own (whisper-1 by the hour, tts-1 by the character). */
const ITEM_ONLY: readonly string[] = ['audio_hours', 'input_mchars'];

export interface StoredOverride extends PriceOverride {
  tenant: string;
  note: string;
  updatedAt: string;
}

export interface OverrideInput {
  id?: string;
  /** '' or absent: every tenant. */
  tenant?: string;
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
  const model = str('model', /^\S.{0,255}$/, 'a model name, or * for a default price');
  const provider =
    model === '*' && b.provider === '*'
      ? '*'
      : str('provider', /^[a-z0-9][a-z0-9._-]{0,63}$/, 'a provider id such as "openai" (or * with model *)');
  const tenant =
    b.tenant === undefined || b.tenant === ''
      ? ''
      : str('tenant', /^[A-Za-z0-9_.-]{1,64}$/, 'a tenant id (1-64 of A-Z a-z 0-9 _ . -), or empty for every tenant');
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
  if (out.input_mtok === undefined && out.output_mtok === undefined && !ITEM_ONLY.some((k) => out[k] !== undefined)) {
    throw new OverrideError('prices needs at least input_mtok or output_mtok (or audio_hours / input_mchars alone)');
  }
  const note = b.note === undefined ? '' : b.note;
  if (typeof note !== 'string' || note.length > 1000) throw new OverrideError('note must be text of ≤ 1000 characters');
  const id =
    b.id === undefined ? undefined : str('id', /^[A-Za-z0-9._:-]{1,128}$/, 'an id of letters, digits and ._:-');
  return { id, tenant, provider, model, effectiveFrom: new Date(effective).toISOString(), prices: out, note };
}

/** The id of an override: given, or derived from what it prices and from when. */
export function overrideId(o: OverrideInput): string {
  if (o.id) return o.id;
  // A global override keeps the id it had before overrides could belong to a tenant.
  const scope = o.tenant ? `${o.tenant}\u0000` : '';
  return createHash('sha256')
    .update(`${scope}${o.provider}\u0000${o.model.toLowerCase()}\u0000${o.effectiveFrom}`)
    .digest('hex')
    .slice(0, 16);
}

/** Every override in force (latest version per id, not deleted). */
export async function listOverrides(store: Store): Promise<StoredOverride[]> {
  const rows = await select<{
    id: string;
    tenant: string;
    provider: string;
    model: string;
    effective_from: string;
    prices: Record<string, number>;
    note: string;
    updated_at: string;
  }>(
    store,
    `SELECT id, tenant, provider, model, effective_from, prices, note, last_updated AS updated_at
     FROM (
       SELECT id, argMax(tenant, updated_at) AS tenant, argMax(provider, updated_at) AS provider, argMax(model, updated_at) AS model,
              argMax(effective_from, updated_at) AS effective_from, argMax(prices, updated_at) AS prices,
              argMax(note, updated_at) AS note, argMax(deleted, updated_at) AS deleted, max(updated_at) AS last_updated
       FROM ${table(store, 'price_overrides')} GROUP BY id
     )
     WHERE deleted = 0
     ORDER BY tenant, provider, model, effective_from, id`,
  );
  return rows.map((r) => ({
    id: r.id,
    tenant: r.tenant,
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
        tenant: o.tenant ?? '',
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
