import type { DashboardSpec } from './dashboard.js';
import { MONTH_START, TODAY, usageRows } from './sql.js';
import { filter, NOT_USER, PROPERTY_PAIRS, propertyFilter } from './variables.js';

const F = filter();
/** The usage rows in the range: coarse hourly rollup for "All" users, per-user daily otherwise. */
const IN_RANGE = usageRows('hourly', '$__timeFilter(hour)', '$__dateFilter(day)', filter(NOT_USER));

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
            'Each user’s cost today and month to date (UTC, at the range end) and all time (whatever the range).',
          kind: 'table',
          format: 'table',
          // Summed per user, day and team first: the shape of ai_user_daily's by_user_day projection.
          sql: `SELECT user_id, arrayStringConcat(arraySort(groupUniqArray(team)), ', ') AS teams,
  sumIf(c, day = ${TODAY}) AS today,
  sumIf(c, day >= ${MONTH_START}) AS month_to_date,
  sum(c) AS all_time,
  sum(r) AS calls
FROM (
  SELECT user_id, day, team, sum(cost_usd) AS c, sum(requests) AS r
  FROM ai_user_daily
  WHERE day <= ${TODAY}
    AND ${F}
  GROUP BY user_id, day, team
)
GROUP BY user_id
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
          sql: `SELECT $__timeInterval(hour) AS time, team, sum(cost_usd) AS cost
FROM ${IN_RANGE}
GROUP BY time, team
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
          sql: `SELECT feature, sum(cost_usd) AS cost
FROM ${IN_RANGE}
GROUP BY feature
ORDER BY cost DESC`,
          columns: ['feature', 'cost'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 6,
          h: 9,
        },
        {
          title: 'Teams',
          description: 'Per team in the range (whole UTC days): active users, calls and cost.',
          kind: 'table',
          format: 'table',
          // Summed per team and user first: the shape of ai_user_daily's by_user_day projection.
          sql: `SELECT team, uniqExact(user_id) AS users, sum(r) AS calls, sum(c) AS cost
FROM (
  SELECT team, user_id, sum(requests) AS r, sum(cost_usd) AS c
  FROM ai_user_daily
  WHERE $__dateFilter(day)
    AND ${F}
  GROUP BY team, user_id
)
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
            'Calls and cost in the range per custom property value (`name=value`, set by the app in its usage context). ' +
            'A call with several properties counts under each. Read from raw calls: within raw retention only.',
          kind: 'table',
          format: 'table',
          sql: `SELECT concat(k, '=', v) AS property, count() AS calls, sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost
FROM ai_calls
${PROPERTY_PAIRS}
WHERE $__timeFilter(timestamp)
  AND ${F}
  AND ${propertyFilter()}
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
