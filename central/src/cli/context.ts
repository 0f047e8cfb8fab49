// What every verb needs: the output format and, on first use, an API client built from the global flags.
// action() adapts a verb body to commander so verbs never touch commander's calling convention.
import type { Command } from 'commander';
import { ApiClient } from './client.js';
import { resolveConnection, type ConnectionFlags } from './config.js';
import { CliError } from './errors.js';
import { show, showList, writeOut, type Column, type OutputFormat } from './output.js';

/** Flags of the `xchg` program itself, valid before or after the noun and verb. */
/** Every command's global options. */
export interface GlobalOptions extends ConnectionFlags {
  /** -o: table (default) or json. */
  output: OutputFormat;
}

export class Context {
  readonly output: OutputFormat;
  /** One clock reading per command, so every age in a table is measured from the same instant. */
  readonly nowMs = Date.now();
  private client: ApiClient | undefined;

  constructor(private readonly globals: GlobalOptions) {
    this.output = globals.output;
  }

  /** The API client; throws when no token was given (nothing is sent without one). */
  get api(): ApiClient {
    if (!this.client) {
      const { server, token } = resolveConnection(this.globals);
      if (!token) throw new CliError('missing token: set --token or XCHG_TOKEN (or --token-file PATH)');
      this.client = new ApiClient({ server, token });
    }
    return this.client;
  }

  show(data: unknown, render: () => string): void {
    show(this.output, data, render);
  }

  /** A list: `rows` in a table, or `json` (default: the rows themselves) for -o json. */
  list<T>(rows: readonly T[], columns: readonly Column<T>[], what: string, json: unknown = rows): void {
    showList(this.output, rows, columns, what, json);
  }

  /** Confirms a verb the API answers with no body (204): a line for people, nothing for -o json. */
  done(message: string): void {
    if (this.output === 'table') writeOut(message);
  }
}

/**
 * Wraps a verb body for commander's .action(): body(ctx, the verb's own options, ...positional arguments).
 */
export function action<O>(body: (ctx: Context, opts: O, ...args: string[]) => Promise<void>) {
  return async function (this: Command): Promise<void> {
    const ctx = new Context(this.optsWithGlobals<GlobalOptions>());
    await body(ctx, this.opts<O & Record<string, unknown>>(), ...(this.processedArgs as string[]));
  };
}
