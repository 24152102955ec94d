import type { ProbeContext, Variant } from '../probe.ts';

/**
 * The Per user panel, its two halves alone (the sums of the 200 shown; every user's teams), and
 * the teams of the shown users only (the shown set computed once more for an IN).
 */
export function variants(c: ProbeContext): Variant[] {
  const all = c.panel('users', 'Per user: today, month, all time', 7);
  const one = c.panel('users', 'Per user: today, month, all time', 7, c.user);
  const shown = all.sql.slice(all.sql.indexOf('FROM (') + 5, all.sql.indexOf(') AS shown') + 1);
  const teams = all.sql.slice(all.sql.indexOf('LEFT JOIN (') + 10, all.sql.indexOf(') AS t USING') + 1);
  const teamsOfShown = teams.replace(
    /GROUP BY user_id, team/,
    `AND user_id IN (SELECT user_id FROM ${shown})\n    GROUP BY user_id, team`,
  );
  return [
    all,
    { ...all, name: 'shown only', sql: `SELECT * FROM ${shown}` },
    { ...all, name: 'teams only', sql: `SELECT * FROM ${teams}` },
    { ...all, name: 'teams of the shown only', sql: `SELECT * FROM ${teamsOfShown}` },
    { ...all, name: 'panel, teams of the shown', sql: all.sql.replace(teams, teamsOfShown) },
    one,
  ];
}
