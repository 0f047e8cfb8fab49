#!/usr/bin/env node
// xchg: the command line of central network staff (交换中心运维). It talks to xchg-central's HTTP API only.
// This file owns the process: run the command, then one exit path — a single "xchg: <reason>" line on
// stderr and the exit status (0 done, 1 API or network failure, 2 usage error).
import { CommanderError } from 'commander';
import { CliError, Exit } from './errors.js';
import { buildProgram } from './program.js';
import { oneLine } from './text.js';

/** Commander "errors" that are help or version output, already printed: success. */
const NOT_FAILURES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

async function main(argv: string[]): Promise<Exit> {
  try {
    await buildProgram().parseAsync(argv);
    return Exit.OK;
  } catch (err) {
    return fail(err);
  }
}

function fail(err: unknown): Exit {
  if (err instanceof CommanderError) {
    if (NOT_FAILURES.has(err.code)) return Exit.OK;
    return say(err.message.replace(/^error: /, ''), Exit.USAGE);
  }
  if (err instanceof CliError) return say(err.message, err.exitCode);
  // A bug in the CLI: still one line, no stack trace.
  return say(`internal error: ${err instanceof Error ? err.message : String(err)}`, Exit.FAILURE);
}

function say(reason: string, exitCode: Exit): Exit {
  process.stderr.write(`xchg: ${oneLine(reason.replace(/\s*\n\s*/g, ' ').trim())}\n`);
  return exitCode;
}

// `xchg node list | head -1`: a closed pipe ends the output, it is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(Exit.OK);
  throw err;
});

// exitCode, not exit(): let stdout drain into a pipe before the process ends.
void main(process.argv).then((code) => {
  process.exitCode = code;
});
