import type { DashboardSpec } from './dashboard.js';
import { NO_PROJECTIONS, TODAY } from './sql.js';
import { filter } from './variables.js';

/**
 * A daily rollup's spend in the UTC day, ISO week and month of the range end, per tenant and
 * scope columns: budgets join these few rows (each budget takes the column of its period), not
 * every daily row of the month (23 budgets × every row cost 50–130 ms at 50 M calls).
 */
const spendByPeriod = (
  table: string,
  user: string,
  where: string,
) => `SELECT ${user === '' ? "0 AS per_user, '' AS user_id" : '1 AS per_user, user_id'}, tenant, team, feature, model,
      sumIf(cost_usd, day = ${TODAY}) AS cost_day, sumIf(cost_usd, day >= toMonday(${TODAY})) AS cost_week,
      sumIf(cost_usd, day >= toStartOfMonth(${TODAY})) AS cost_month
    FROM ${table}
    WHERE day >= least(toMonday(${TODAY}), toStartOfMonth(${TODAY})) AND day <= ${TODAY}
      AND ${where}
    GROUP BY tenant, ${user === '' ? '' : 'user_id, '}team, feature, model`;

/**
 * Every live budget with its spend in the current period (UTC day, ISO week or month at
 * the range end), percent used, burn rate and forecast date of exhaustion. Budgets are
 * versioned rows: the latest version per id wins and a deleted one is gone. Spend comes
 * from the coarse daily rollup, or for a budget scoped to a user from the per-user daily rollup
 * (only the users budgets name), matched on the budget's scope (an empty field matches all).
 */
export const budgetStatus = (T: string) => `SELECT tenant, id, name, scope, period, mode, amount_usd, spent_usd,
  round(100 * toFloat64(spent_usd) / greatest(toFloat64(amount_usd), 1e-9), 2) AS pct_used,
  toFloat64(spent_usd) * 86400 / greatest(dateDiff('second', toDateTime(period_start, 'UTC'), $__toTime), 3600) AS burn_usd_per_day,
  if(burn_usd_per_day > 0,
     toDateTime(period_start, 'UTC') + toIntervalSecond(toUInt64(least(toFloat64(amount_usd) / burn_usd_per_day * 86400, 3e9))),
     NULL) AS exhausts_at,
  toDateTime(period_end, 'UTC') AS period_ends_at
FROM (
  SELECT b.tenant AS tenant, b.id AS id, any(b.b_name) AS name, any(b.b_scope) AS scope, any(b.b_period) AS period,
    any(b.b_mode) AS mode, any(b.b_amount) AS amount_usd, any(b.b_start) AS period_start, any(b.b_end) AS period_end,
    sumIf(multiIf(b.b_period = 'day', u.cost_day, b.b_period = 'week', u.cost_week, u.cost_month),
      if(b.s_user = '', u.per_user = 0, u.per_user = 1 AND u.user_id = b.s_user)
      AND (b.s_team = '' OR u.team = b.s_team)
      AND (b.s_feature = '' OR u.feature = b.s_feature) AND (b.s_model = '' OR u.model = b.s_model)) AS spent_usd
  FROM (
    SELECT tenant, id,
      argMax(name, updated_at) AS b_name, argMax(period, updated_at) AS b_period, argMax(mode, updated_at) AS b_mode,
      argMax(amount_usd, updated_at) AS b_amount, argMax(deleted, updated_at) AS b_deleted,
      argMax(scope_team, updated_at) AS s_team, argMax(scope_user, updated_at) AS s_user,
      argMax(scope_feature, updated_at) AS s_feature, argMax(scope_model, updated_at) AS s_model,
      multiIf(b_period = 'day', ${TODAY}, b_period = 'week', toMonday(${TODAY}), toStartOfMonth(${TODAY})) AS b_start,
      multiIf(b_period = 'day', ${TODAY} + 1, b_period = 'week', toMonday(${TODAY}) + 7,
              addMonths(toStartOfMonth(${TODAY}), 1)) AS b_end,
      if(s_team = '' AND s_user = '' AND s_feature = '' AND s_model = '', 'whole tenant',
         arrayStringConcat(arrayFilter(x -> x != '', [
           if(s_team != '', concat('team=', s_team), ''), if(s_user != '', concat('user=', s_user), ''),
           if(s_feature != '', concat('feature=', s_feature), ''), if(s_model != '', concat('model=', s_model), '')]), ' ')) AS b_scope
    FROM budgets
    WHERE ${T}
    GROUP BY tenant, id
    HAVING b_deleted = 0
  ) AS b
  LEFT JOIN (
    ${spendByPeriod('ai_rollup_daily', '', T)}
    UNION ALL
    ${spendByPeriod(
      'ai_user_daily',
      'user_id',
      `(tenant, user_id) GLOBAL IN (SELECT tenant, scope_user FROM budgets WHERE scope_user != '')
      AND ${T}`,
    )}
  ) AS u ON u.tenant = b.tenant
  GROUP BY b.tenant, b.id
)`;

const BUDGET_STATUS = budgetStatus(filter(['tenant']));
const indent = (sql: string) => sql.replace(/\n/g, '\n  ');

export const budgets: DashboardSpec = {
  uid: 'tokenmeter-budgets',
  title: 'tokenmeter / Budgets',
  description:
    'How much of each budget is used, how fast it burns, when it runs out, and which scopes are hard-limited.',
  from: 'now-24h',
  variables: ['tenant'],
  rows: [
    {
      title: 'Budgets',
      panels: [
        {
          title: 'Percent used',
          description: 'Spend in the current period against each budget’s amount.',
          kind: 'bargauge',
          format: 'table',
          sql: `SELECT name, pct_used\nFROM (\n  ${indent(BUDGET_STATUS)}\n)\nORDER BY pct_used DESC, name\n${NO_PROJECTIONS}`,
          columns: ['name', 'pct_used'],
          unit: 'percent',
          max: 100,
          w: 10,
          h: 9,
        },
        {
          title: 'Burn rate and forecast',
          description:
            'Average spend per day since the period began, and the moment the budget runs out at that rate (empty: no spend yet).',
          kind: 'table',
          format: 'table',
          sql: `SELECT name, scope, period, amount_usd, spent_usd, burn_usd_per_day, exhausts_at,
  if(exhausts_at IS NOT NULL AND exhausts_at < period_ends_at, 'yes', 'no') AS runs_out_this_period
FROM (
  ${indent(BUDGET_STATUS)}
)
ORDER BY exhausts_at ASC NULLS LAST, name\n${NO_PROJECTIONS}`,
          columns: [
            'name',
            'scope',
            'period',
            'amount_usd',
            'spent_usd',
            'burn_usd_per_day',
            'exhausts_at',
            'runs_out_this_period',
          ],
          unit: 'currencyUSD',
          units: {
            name: 'string',
            scope: 'string',
            period: 'string',
            exhausts_at: 'dateTimeAsIso',
            runs_out_this_period: 'string',
          },
          decimals: 2,
          w: 14,
          h: 9,
        },
        {
          title: 'Hard-limited scopes',
          description: 'Budgets in hard mode: calls in their scope are refused once the budget is used up.',
          kind: 'table',
          format: 'table',
          sql: `SELECT tenant, name, scope, period, amount_usd, spent_usd, pct_used,
  if(pct_used >= 100, 'blocked', 'open') AS state
FROM (
  ${indent(BUDGET_STATUS)}
)
WHERE mode = 'hard'
ORDER BY pct_used DESC, name\n${NO_PROJECTIONS}`,
          columns: ['tenant', 'name', 'scope', 'period', 'amount_usd', 'spent_usd', 'pct_used', 'state'],
          unit: 'currencyUSD',
          units: {
            tenant: 'string',
            name: 'string',
            scope: 'string',
            period: 'string',
            pct_used: 'percent',
            state: 'string',
          },
          decimals: 2,
          w: 24,
          h: 7,
        },
      ],
    },
  ],
};
