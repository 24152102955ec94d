import { api, type Session } from '../api.js';
import { el } from '../dom.js';
import { go, type Route } from '../route.js';

/**
 * The tenant a page works on: a tenant key's own; for an operator key, `?tenant=` or the first
 * tenant with calls or budgets (GET /api/v1/tenants, as the CLI asks), with a picker that
 * reloads `page`.
 */
export async function pageTenant(
  route: Route,
  session: Session,
  page: string,
): Promise<{ tenant: string; picker: HTMLElement | '' }> {
  if (session.tenant !== '*') return { tenant: session.tenant, picker: '' };
  let tenant = route.params.get('tenant') ?? '';
  const { tenants: values } = await api<{ tenants: string[] }>('/api/v1/tenants');
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
