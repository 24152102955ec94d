import { api, query, type Session } from '../api.js';
import { el } from '../dom.js';
import { go, type Route } from '../route.js';

/**
 * The tenant a page works on: a tenant key's own; for an operator key, `?tenant=` or the first
 * tenant with data, with a picker that reloads `page` (the tenants come from the dashboards'
 * tenant variable, as the operator sees them).
 */
export async function pageTenant(
  route: Route,
  session: Session,
  page: string,
): Promise<{ tenant: string; picker: HTMLElement | '' }> {
  if (session.tenant !== '*') return { tenant: session.tenant, picker: '' };
  let tenant = route.params.get('tenant') ?? '';
  const now = Date.now();
  const { values } = await api<{ values: string[] }>(
    `/api/v1/dashboards/tokenmeter-budgets/variables/tenant/options${query({ from: now - 90 * 86_400_000, to: now })}`,
  ).catch(() => ({ values: [] as string[] }));
  if (tenant && !values.includes(tenant)) values.unshift(tenant);
  if (!tenant) tenant = values[0] ?? '';
  const select = el('select', { 'aria-label': 'Tenant' }, ...values.map((v) => el('option', { value: v, text: v })));
  select.value = tenant;
  select.addEventListener('change', () => go(page, [], new URLSearchParams({ tenant: select.value })));
  return { tenant, picker: el('label', { text: 'Tenant ' }, select) };
}

/** `{tenant}` for an operator key's requests (it must name one), nothing for a tenant key. */
export function tenantParam(session: Session, tenant: string): { tenant?: string } {
  return session.tenant === '*' ? { tenant } : {};
}
