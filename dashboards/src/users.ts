import type { DashboardSpec } from './dashboard.js';
import { MONTH_START, TODAY, USER_IS_ALL, usageGrouped } from './sql.js';
import { filter, NOT_USER, PROPERTY_PAIRS, propertyFilter } from './variables.js';

const F = filter();
/** The Per user table's rows: the users with the highest month to date. */
const PER_USER_ROWS = 200;
/**
 * The Per user table's sums for the users it shows: months before the range end's month from
 * ai_user_daily's by_user_month_sums projection (047), that month's days from by_user_day_total (a row
 * per user and month or day).
 */
const PER_USER_SHOWN = `(
  SELECT user_id, sumIf(c, d = ${TODAY}) AS today, sumIf(c, d >= ${MONTH_START}) AS month_to_date,
    sum(c) AS all_time, sum(r) AS calls
  FROM (
    SELECT user_id, toStartOfMonth(day) AS d, sum(cost_usd) AS c, sum(requests) AS r
    FROM ai_user_daily
    WHERE toStartOfMonth(day) < ${MONTH_START}
      AND ${F.replace(/\n/g, '\n    ')}
    GROUP BY user_id, d
    UNION ALL
    SELECT user_id, day AS d, sum(cost_usd) AS c, sum(requests) AS r
    FROM ai_user_daily
    WHERE day >= ${MONTH_START} AND day <= ${TODAY}
      AND ${F.replace(/\n/g, '\n    ')}
    GROUP BY user_id, d
  )
  GROUP BY user_id
  ORDER BY month_to_date DESC, user_id
  LIMIT ${PER_USER_ROWS}
)`;
/**
 * The usage rows in the range, aggregated by `select` / `groupBy` in each branch (`usageGrouped`):
 * the coarse hourly rollup (its by_service_hour projection for teams) for "All" users, per-user daily otherwise.
 */
const grouped = (select: string, groupBy: string) =>
  usageGrouped('hourly', '$__timeFilter(hour)', '$__dateFilter(day)', filter(NOT_USER), select, groupBy);

export const users: DashboardSpec = {
  uid: 'tokenmeter-users',
  title: 'tokenmeter / Users and teams',
  description: 'Who spends: top spenders, and each user today, this month and all time; teams and features.',
  from: 'now-7d',
  variables: ['tenant', 'service', 'provider', 'model', 'user', 'feature', 'property'],
  rows: [
    {
      title: 'Users',
      panels: [
        {
          title: 'Top spenders',
          description: 'The ten users with the highest cost in the range (whole UTC days).',
          kind: 'bargauge',
          format: 'table',
          sql: `SELECT user_id, sum(cost_usd) AS cost
FROM ai_user_daily
WHERE $__dateFilter(day)
  AND ${F}
GROUP BY user_id
ORDER BY cost DESC, user_id
LIMIT 10`,
          columns: ['user_id', 'cost'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 10,
          h: 10,
        },
        {
          title: 'Per user: today, month, all time',
          description:
            `The ${PER_USER_ROWS} users with the highest month to date: cost today and month to date (UTC, at the range end), ` +
            'all time (whatever the range), calls, and the teams their calls were made for. Choose a user to see that user.',
          kind: 'table',
          format: 'table',
          // Teams from by_user_team (a row per user and team, all time): a set of team names per
          // user and day costs more to read than all the sums.
          sql: `SELECT user_id, teams, today, month_to_date, all_time, calls
FROM ${PER_USER_SHOWN} AS shown
LEFT JOIN (
  SELECT user_id, arrayStringConcat(arraySort(groupArray(team)), ', ') AS teams
  FROM (
    SELECT user_id, team, sum(requests) AS r
    FROM ai_user_daily
    WHERE ${F.replace(/\n/g, '\n    ')}
    GROUP BY user_id, team
  )
  GROUP BY user_id
) AS t USING (user_id)
ORDER BY month_to_date DESC, user_id`,
          columns: ['user_id', 'teams', 'today', 'month_to_date', 'all_time', 'calls'],
          unit: 'currencyUSD',
          units: { user_id: 'string', teams: 'string', calls: 'short' },
          decimals: 2,
          w: 14,
          h: 10,
        },
      ],
    },
    {
      title: 'Teams and features',
      panels: [
        {
          title: 'Spend by team',
          description: 'Cost per interval, stacked by team.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT time, team, cost
FROM ${grouped('$__timeInterval(hour) AS time, team, sum(cost_usd) AS cost', 'time, team')}
ORDER BY time, team`,
          columns: ['time', 'team', 'cost'],
          unit: 'currencyUSD',
          decimals: 2,
          stacked: true,
          w: 12,
          h: 9,
        },
        {
          title: 'Spend by feature',
          description: 'How the cost in the range divides between product features.',
          kind: 'piechart',
          format: 'table',
          sql: `SELECT feature, cost
FROM ${grouped('feature, sum(cost_usd) AS cost', 'feature')}
ORDER BY cost DESC`,
          columns: ['feature', 'cost'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 6,
          h: 9,
        },
        {
          title: 'Teams',
          description:
            'Per team in the range (whole UTC days): active users (approximate: a HyperLogLog sketch, exact up to 16 users, about 2 % off above), calls and cost.',
          kind: 'table',
          format: 'table',
          // One aggregation over the table: with nothing but the tenant chosen, ClickHouse answers it
          // from ai_user_daily's by_team_day_hll projection (a 2.5 KB uniqHLL12 sketch per team and day).
          sql: `SELECT team, uniqHLL12(user_id) AS users, sum(requests) AS calls, sum(cost_usd) AS cost
FROM ai_user_daily
WHERE $__dateFilter(day)
  AND ${F}
GROUP BY team
ORDER BY cost DESC`,
          columns: ['team', 'users', 'calls', 'cost'],
          unit: 'short',
          units: { team: 'string', cost: 'currencyUSD' },
          w: 6,
          h: 9,
        },
      ],
    },
    {
      title: 'Custom properties',
      panels: [
        {
          title: 'Spend by custom property',
          description:
            'Calls and cost in the range (whole UTC days) per custom property value (`name=value`, set by the app in its usage context). ' +
            'A call with several properties counts under each. Read from raw calls: within raw retention only.',
          kind: 'table',
          format: 'table',
          // Aggregated right on the calls by the whole property map, then split into pairs. "All":
          // ai_calls, which with only the tenant chosen answers from its by_property_day projection (a
          // row per map and day); users chosen: their calls in ai_user_calls (052, by month: a key
          // range in 2 to 4 parts, where ai_calls' day partitions were up to 135; FINAL: a call once).
          sql: `SELECT concat(k, '=', v) AS property, sum(c) AS calls, sum(s) AS cost
FROM (
  SELECT properties, count() AS c, sum(ifNull(cost_usd, toDecimal128(0, 12))) AS s
  FROM ai_calls
  WHERE ${USER_IS_ALL} AND $__dateFilter(toDate(timestamp))
    AND ${F.replace(/\n/g, '\n    ')}
  GROUP BY properties
  UNION ALL
  SELECT properties, count() AS c, sum(ifNull(cost_usd, toDecimal128(0, 12))) AS s
  FROM ai_user_calls FINAL
  WHERE NOT (${USER_IS_ALL}) AND $__dateFilter(toDate(timestamp))
    AND ${F.replace(/\n/g, '\n    ')}
  GROUP BY properties
)
${PROPERTY_PAIRS}
WHERE ${propertyFilter()}
GROUP BY property
ORDER BY cost DESC, property
LIMIT 100`,
          columns: ['property', 'calls', 'cost'],
          unit: 'short',
          units: { property: 'string', cost: 'currencyUSD' },
          w: 12,
          h: 9,
        },
      ],
    },
  ],
};
