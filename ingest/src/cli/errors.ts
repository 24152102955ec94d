/**
 * A command's failure, printed as one line on stderr. Exit codes (README "Command line"):
 * 1 the command could not be done (service unreachable or failing, a job that failed),
 * 2 the command was wrong (usage, a value the service refused with a 4xx, an ambiguous tenant).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A user error: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}
