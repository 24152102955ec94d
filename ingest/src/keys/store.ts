import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type KeyResolver, type Principal, type Role, sha256 } from '../http/auth.js';
import { insertSettings, type Store } from '../store/client.js';

export const ROLES: readonly Role[] = ['ingest', 'read', 'user', 'admin'];
/** A tenant name, or '*' for an operator key (all tenants; only the bootstrap key may make one). */
export const TENANT_PATTERN = /^(?:\*|[A-Za-z0-9_.-]{1,64})$/;

/** An API key as listed: never its secret, never its hash. */
export interface ApiKey {
  id: string;
  tenant: string;
  role: Role;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

interface KeyRow extends ApiKey {
  key_hash: string;
}

/**
 * API keys in ClickHouse (`api_keys`), stored as the sha256 of the secret: the secrets
 * are 256 random bits, so a fast hash is enough, and a leaked table reveals no key.
 *
 * Resolving a key reads an in-memory copy of the table, refreshed in the background
 * once it is older than `cacheMs`, so authentication adds no query to a request. An
 * unknown key forces one refresh at most once a second (a key just created on another
 * replica works at once; a flood of wrong keys cannot flood ClickHouse). A revocation
 * applies at once on this replica and within `cacheMs` on the others.
 */
export class KeyStore implements KeyResolver {
  private byHash = new Map<string, Principal>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: { cacheMs: number; log: Logger },
  ) {}

  async resolve(secret: string): Promise<Principal | undefined> {
    const age = Date.now() - this.loadedAt;
    if (this.loadedAt === 0) await this.refresh();
    else if (age > this.opts.cacheMs) void this.refresh().catch(() => undefined);
    const hit = this.byHash.get(sha256(secret));
    if (hit || Date.now() - this.loadedAt < 1000) return hit;
    await this.refresh();
    return this.byHash.get(sha256(secret));
  }

  /** Reload every live key (single flight). */
  refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const rows = await this.rows();
        const next = new Map<string, Principal>();
        for (const r of rows) {
          if (r.revoked_at === null) next.set(r.key_hash, { keyId: r.id, role: r.role, tenant: r.tenant });
        }
        this.byHash = next;
        this.loadedAt = Date.now();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'cannot load API keys; keeping the cached ones');
        if (this.loadedAt === 0) throw err;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Create a key. The secret is returned here once and never stored. */
  async create(input: { tenant: string; role: Role; name: string }, actor: string): Promise<ApiKey & { key: string }> {
    const id = `key_${randomBytes(8).toString('hex')}`;
    const key = `tm_${randomBytes(32).toString('base64url')}`;
    const now = new Date().toISOString();
    const row: KeyRow = {
      id,
      tenant: input.tenant,
      role: input.role,
      name: input.name,
      key_hash: sha256(key),
      created_at: now,
      revoked_at: null,
    };
    await this.insertRow(row, now);
    await this.audit(input.tenant, 'key_create', actor, { id, role: input.role, name: input.name });
    this.byHash.set(row.key_hash, { keyId: id, role: input.role, tenant: input.tenant });
    const { key_hash: _hash, ...listed } = row;
    return { ...listed, key };
  }

  /** Keys of one tenant ('*': every key), newest first. */
  async list(tenant: string): Promise<ApiKey[]> {
    const rows = await this.rows();
    return rows
      .filter((r) => tenant === '*' || r.tenant === tenant)
      .map(({ key_hash: _hash, ...k }) => k)
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /** Revoke a key of this tenant ('*': any). False when there is no such live key. */
  async revoke(id: string, tenant: string, actor: string): Promise<boolean> {
    const row = (await this.rows()).find((r) => r.id === id && (tenant === '*' || r.tenant === tenant));
    if (!row || row.revoked_at !== null) return false;
    const now = new Date().toISOString();
    await this.insertRow({ ...row, revoked_at: now }, now);
    await this.audit(row.tenant, 'key_revoke', actor, { id });
    this.byHash.delete(row.key_hash);
    return true;
  }

  private async rows(): Promise<KeyRow[]> {
    const rs = await this.store.writer.query({
      query: `SELECT id, tenant, role, name, key_hash,
                     formatDateTime(created_at, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS created_at,
                     if(revoked_at IS NULL, NULL, formatDateTime(assumeNotNull(revoked_at), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')) AS revoked_at
              FROM ${this.store.database}.api_keys FINAL`,
      format: 'JSONEachRow',
    });
    return rs.json<KeyRow>();
  }

  private async insertRow(row: KeyRow, updatedAt: string): Promise<void> {
    await this.store.writer.insert({
      table: `${this.store.database}.api_keys`,
      values: [{ ...row, updated_at: updatedAt }],
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(`api_keys:${row.id}:${updatedAt}`),
    });
  }

  private async audit(tenant: string, action: string, actor: string, details: object): Promise<void> {
    const ts = new Date().toISOString();
    await this.store.writer.insert({
      table: `${this.store.database}.audit_log`,
      values: [{ ts, tenant, action, actor, details: JSON.stringify(details) }],
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(`audit_log:${action}:${ts}:${JSON.stringify(details)}`),
    });
  }
}
