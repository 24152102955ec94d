import { Option } from 'commander';
import type { AddCommands } from '../cli/context.js';
import { write } from '../cli/context.js';
import { CliError } from '../cli/errors.js';
import { formatTable } from '../cli/format.js';

interface ProviderOutcome {
  provider: string;
  status: string;
  error?: string;
  rows: {
    dimension: string;
    key: string;
    trackedUsd: string;
    billedUsd: string | null;
    driftPct: number | null;
    status: string;
  }[];
}

/** `tokenmeter reconcile`: a day's provider bill against tracked cost, through POST /api/v1/reconcile. */
export const addReconcileCommands: AddCommands = (program, { client }) => {
  program
    .command('reconcile')
    .description("compare a day's provider bill with tracked cost (progress bar on stderr)")
    .requiredOption('--date <YYYY-MM-DD>', 'the UTC day to reconcile (it must have ended)')
    .addOption(
      new Option('--provider <provider>', 'one provider only (default: every configured one)').choices([
        'openai',
        'anthropic',
      ]),
    )
    .action(async (opts: { date: string; provider?: string }) => {
      const result = await client.job<ProviderOutcome[]>(
        '/api/v1/reconcile',
        { date: opts.date, provider: opts.provider },
        'reconcile',
      );
      for (const o of result) {
        write(`${o.provider} ${opts.date}: ${o.status}${o.error ? ` (${o.error}; retried by the daily job)` : ''}\n`);
        write(
          formatTable(
            ['dimension', 'key', 'tracked_usd', 'billed_usd', 'drift_pct', 'status'],
            o.rows.map((r) => ({
              dimension: r.dimension,
              key: r.key,
              tracked_usd: r.trackedUsd,
              billed_usd: r.billedUsd ?? 'unknown',
              // (billed − tracked) / tracked, signed as everywhere else.
              drift_pct: r.driftPct === null ? 'unknown' : `${r.driftPct > 0 ? '+' : ''}${r.driftPct.toFixed(2)}`,
              status: r.status,
            })),
          ),
        );
      }
      if (result.some((o) => o.status === 'error')) throw new CliError('a provider bill could not be read');
    });
};
