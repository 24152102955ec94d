import type { ProbeContext, Variant } from '../probe.ts';

/** The Per user panel, and its two halves alone (the sums of the 200 shown; every user's teams). */
export function variants(c: ProbeContext): Variant[] {
  const all = c.panel('users', 'Per user: today, month, all time', 7);
  const one = c.panel('users', 'Per user: today, month, all time', 7, c.user);
  const shown = all.sql.slice(all.sql.indexOf('FROM (') + 5, all.sql.indexOf(') AS shown') + 1);
  const teams = all.sql.slice(all.sql.indexOf('LEFT JOIN (') + 10, all.sql.indexOf(') AS t USING') + 1);
  return [
    all,
    { ...all, name: 'shown only', sql: `SELECT * FROM ${shown}` },
    { ...all, name: 'teams only', sql: `SELECT * FROM ${teams}` },
    one,
    { ...one, name: `${one.name} noproj`, sql: `${one.sql}\nSETTINGS optimize_use_projections = 0` },
  ];
}
