import type { ProbeContext, Variant } from '../probe.ts';

export function variants(c: ProbeContext): Variant[] {
  const out: Variant[] = [];
  for (const days of [7, 90]) {
    const p = c.panel('users', 'Teams', days);
    out.push(p, { ...p, name: `${p.name} hll`, sql: p.sql.replace('uniq(user_id)', 'uniqHLL12(user_id)') });
  }
  return out;
}
