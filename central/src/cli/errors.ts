// The CLI's failures and exit statuses. Every failure reaches the operator through one path (main.ts):
// a single stderr line "xchg: <reason>" and the exit status carried here.

/** Exit statuses: 0 success, 1 the API or the network failed, 2 the command line was wrong. */
export const Exit = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
} as const;
export type Exit = (typeof Exit)[keyof typeof Exit];

export class CliError extends Error {
  readonly exitCode: Exit;
  constructor(message: string, exitCode: Exit = Exit.FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A wrong command line: bad flag value, missing flag, conflicting flags. */
export const usageError = (message: string): CliError => new CliError(message, Exit.USAGE);
