// `xchg … --help` shows every option's default (issue 9): walks the whole commander program, in process.
import { describe, expect, it } from 'vitest';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../central/src/cli/program.js';

/** Every command of the program with its path ("sub create"), depth first. */
function commands(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  return [{ path: path.join(' '), cmd }, ...cmd.commands.flatMap((c) => commands(c, [...path, c.name()]))];
}

/** The help line(s) of one option, as `xchg <path> --help` prints them. */
function helpOf(cmd: Command, option: Option): string {
  return cmd.createHelp().optionDescription(option);
}

/** Options left out that take a value the CLI or central chooses: each must show it (checked by name). */
const KNOWN_DEFAULTS: Record<string, string> = {
  'sub create --interval': '0',
  'sub create --method': "the resource's first",
  'sub verify --timeout': '30m',
  'sub verifications --limit': '100',
  'task create --interval': '0',
  'task create --enabled': 'true',
  'token create --ttl': "7d (central's)",
  'share approve --valid-days': "365 (central's)",
  'share apply --fields': 'all',
  'audit list --limit': "1000 (central's)",
  'catalog create --format': 'table',
  'catalog create --cycle': 'irregular',
  'node reports --limit': '50',
  'report departments --since': '30 days before --until',
  'report departments --until': 'now',
  ' --server': 'http://127.0.0.1:8080',
};

describe('cli help - defaults', () => {
  const all = commands(buildProgram());
  const options = all.flatMap(({ path, cmd }) => cmd.options.map((o) => ({ key: `${path} ${o.long}`, cmd, o })));

  it('cli help - the program has its nouns and their options', () => {
    expect(all.filter(({ path }) => path && !path.includes(' ')).length).toBeGreaterThanOrEqual(12);
    expect(options.length).toBeGreaterThan(90);
  });

  it('cli help - every option with a default shows it as "(… default: …)" in --help', () => {
    const missing = options
      .filter(({ o }) => (o.defaultValue !== undefined && !o.negate) || o.defaultValueDescription !== undefined)
      .filter(({ cmd, o }) => !/[(,] ?default: [^)]+\)/.test(helpOf(cmd, o)))
      .map(({ key }) => key);
    expect(missing).toEqual([]);
  });

  it('cli help - no option describes its default in prose instead of declaring it', () => {
    const prose = options.filter(({ o }) => /\(default|default:|default \d/i.test(o.description)).map(({ key }) => key);
    expect(prose).toEqual([]);
  });

  it('cli help - options whose value the CLI or central chooses when left out show that value', () => {
    const byKey = new Map(options.map((x) => [x.key, x]));
    const shown = Object.keys(KNOWN_DEFAULTS).map((key) => {
      const x = byKey.get(key);
      return [key, x ? /default: (.+)\)$/s.exec(helpOf(x.cmd, x.o).replace(/\s+/g, ' '))?.[1] : 'no such option'];
    });
    expect(Object.fromEntries(shown)).toEqual(KNOWN_DEFAULTS);
  });

  it('cli help - a duration default reads as a duration, not milliseconds', () => {
    const timeout = options.find((x) => x.key === 'sub verify --timeout')!;
    expect(timeout.o.defaultValue).toBe(30 * 60_000);
    expect(helpOf(timeout.cmd, timeout.o)).toContain('default: 30m');
  });
});
