// The agent's configuration layers (defaults < file < env < overrides), validation that lists every
// problem at once, and the enrollment token sources.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileConfig, ConfigError, DEFAULTS, enrollTokenOf } from '../../node-agent/src/config.js';
import { distFile, spawnNode } from '../helpers/proc.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

/** The ConfigError compileConfig throws, or a failure if it does not throw one. */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

function writeFile(name: string, text: string): string {
  const f = join(tmpDir('xchg-agent-config-'), name);
  writeFileSync(f, text);
  return f;
}

afterAll(removeTmpDirs);

describe('config - layers and validation', () => {
  it('config - defaults need no file and the result is frozen', () => {
    const c = compileConfig({ env: {} });
    expect(c).toEqual(DEFAULTS);
    expect(c.backoff).toEqual({ initialMs: 1_000, factor: 1.6, maxMs: 120_000, jitter: 0.2 });
    expect(c.spool.synchronous).toBe('FULL');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.central)).toBe(true);
    // The compiled config is a copy: compiling must not hand out (or freeze) DEFAULTS itself.
    expect(Object.isFrozen(DEFAULTS.central)).toBe(false);
  });

  it('config - a file with several problems reports all of them at once', () => {
    const file = writeFile(
      'agent.yaml',
      [
        'bogus: 1',
        'reportIntervalMs: often',
        'reportBatchSize: 5000',
        'backoff:',
        '  factor: 99',
        '  surprise: true',
      ].join('\n'),
    );
    const err = configError(() => compileConfig({ file, env: {} }));
    const problems = err.problems.join('\n');
    expect(err.problems.length).toBeGreaterThanOrEqual(5);
    expect(err.problems).toContain('bogus: unknown setting');
    expect(err.problems).toContain('backoff.surprise: unknown setting');
    expect(problems).toMatch(/^reportIntervalMs: .*\(got "often"\)$/m);
    expect(problems).toMatch(/^reportBatchSize: .*\(got 5000\)$/m);
    expect(problems).toMatch(/^backoff\.factor: .*\(got 99\)$/m);
    // The message lists each problem for the operator.
    for (const p of err.problems) expect(err.message).toContain(p);
  });

  it('config - a JSON file is read as well as YAML', () => {
    const file = writeFile('agent.json', JSON.stringify({ reportBatchSize: 7, labels: { zone: 'gov' } }));
    const c = compileConfig({ file, env: {} });
    expect(c.reportBatchSize).toBe(7);
    expect(c.labels).toEqual({ zone: 'gov' });
    expect(c.pollDeadlineMs).toBe(DEFAULTS.pollDeadlineMs);
  });

  it('config - env beats the file and overrides beat env', () => {
    const file = writeFile(
      'agent.yaml',
      ['central:', '  address: file-host:1111', 'reportIntervalMs: 1000', 'reportBatchSize: 11'].join('\n'),
    );
    const env = { XCHG_AGENT_CENTRAL: 'env-host:2222', XCHG_AGENT_REPORT_INTERVAL_MS: '2000' };

    const fileOnly = compileConfig({ file, env: {} });
    expect(fileOnly.central.address).toBe('file-host:1111');
    expect(fileOnly.reportIntervalMs).toBe(1000);

    const withEnv = compileConfig({ file, env });
    expect(withEnv.central.address).toBe('env-host:2222');
    expect(withEnv.reportIntervalMs).toBe(2000);
    expect(withEnv.reportBatchSize).toBe(11); // untouched by env: the file's value stays

    const withOverrides = compileConfig({
      file,
      env,
      overrides: { central: { address: 'flag-host:3333' }, reportIntervalMs: 3000 },
    });
    expect(withOverrides.central.address).toBe('flag-host:3333');
    expect(withOverrides.reportIntervalMs).toBe(3000);
    expect(withOverrides.reportBatchSize).toBe(11);
  });

  it('config - an override of one nested key keeps its siblings from lower layers', () => {
    const file = writeFile(
      'agent.yaml',
      ['central:', '  address: file-host:1111', '  enrollToken: tok-from-file'].join('\n'),
    );
    const c = compileConfig({ file, env: {}, overrides: { central: { address: 'flag-host:3333' } } });
    expect(c.central).toEqual({ address: 'flag-host:3333', enrollToken: 'tok-from-file' });
  });

  it('config - a non-integer env value is named with what it got', () => {
    const err = configError(() =>
      compileConfig({ env: { XCHG_AGENT_REPORT_INTERVAL_MS: '10s', XCHG_AGENT_SHUTDOWN_GRACE_MS: '-5' } }),
    );
    expect(err.problems).toContain('XCHG_AGENT_REPORT_INTERVAL_MS: expected a non-negative integer, got "10s"');
    expect(err.problems).toContain('XCHG_AGENT_SHUTDOWN_GRACE_MS: expected a non-negative integer, got "-5"');
  });

  it('config - an env value out of range is reported against its setting', () => {
    const err = configError(() => compileConfig({ env: { XCHG_AGENT_REPORT_INTERVAL_MS: '10' } }));
    expect(err.problems.join('\n')).toMatch(/^reportIntervalMs: .*\(got 10\)$/m);
  });

  it('config - enrollToken and enrollTokenFile together are refused', () => {
    const err = configError(() =>
      compileConfig({
        env: {},
        overrides: {
          central: { address: '127.0.0.1:7443', enrollToken: 'xet_0123456789', enrollTokenFile: '/etc/token' },
        },
      }),
    );
    expect(err.problems).toEqual(['central: set enrollToken or enrollTokenFile, not both']);
  });

  it('config - the same conflict through env and file is refused too', () => {
    const file = writeFile('agent.yaml', ['central:', '  enrollTokenFile: /etc/xchg/token'].join('\n'));
    const err = configError(() => compileConfig({ file, env: { XCHG_AGENT_ENROLL_TOKEN: 'xet_0123456789' } }));
    expect(err.problems).toEqual(['central: set enrollToken or enrollTokenFile, not both']);
  });

  it('config - enrollTokenOf reads the token file, trimmed', () => {
    const tokenFile = writeFile('token', '  xet_fromfile0123456789\n\n');
    const c = compileConfig({ env: { XCHG_AGENT_ENROLL_TOKEN_FILE: tokenFile } });
    expect(c.central.enrollTokenFile).toBe(tokenFile);
    expect(enrollTokenOf(c)).toBe('xet_fromfile0123456789');
  });

  it('config - enrollTokenOf returns the inline token, or nothing when none is configured', () => {
    expect(enrollTokenOf(compileConfig({ env: { XCHG_AGENT_ENROLL_TOKEN: 'xet_inline0123456789' } }))).toBe(
      'xet_inline0123456789',
    );
    expect(enrollTokenOf(compileConfig({ env: {} }))).toBeUndefined();
  });
});

/** A file with one binding of each kind of mistake, and a good one. */
const BAD_BINDINGS = [
  'sources:',
  '  people:',
  '    type: sqlite',
  '    path: /srv/people.db',
  '    table: person',
  '    kye: id', // mistyped key: unknown setting, and `key` is then missing
  '  legal:',
  '    type: postgres',
  '    table: 法人',
  '    key: id',
  '    port: "5432x"', // wrong type
  '    password: "s3cret-pw"',
  '  scans:',
  '    type: files',
  '    dir: /srv/scans',
  'sinks:',
  '  warehouse:',
  '    type: oracle', // unknown connector type
  '    table: t',
  '  licences:',
  '    type: csv',
  '    dir: /srv/out',
  '    key: [id]',
  '    encoding: ebcdic',
  '  bad_null:',
  '    type: csv',
  '    dir: /srv/out',
  '    key: id',
  '    nullString: "a,b"',
].join('\n');

describe('config - connector bindings', () => {
  it('config - every binding is checked against its connector type: all problems at once, each naming the binding and the setting', () => {
    const err = configError(() => compileConfig({ file: writeFile('agent.yaml', BAD_BINDINGS), env: {} }));
    expect(err.problems).toContain('sources.people.kye: unknown setting');
    expect(err.problems).toContain('sources.people.key: missing (required)');
    expect(err.problems).toContain('sources.legal.port: must be integer (got "5432x")');
    expect(err.problems).toContain(
      'sinks.warehouse.type: unknown connector type "oracle" (one of sqlite, postgres, mariadb, mysql, csv, jsonl, files)',
    );
    expect(err.problems).toContain(
      'sinks.licences.encoding: "ebcdic" is not supported (use one of utf-8, gbk, gb18030, big5, utf-16le, utf-16be, utf-16)',
    );
    expect(err.problems.join('\n')).toMatch(
      /^sinks\.bad_null\.nullString: must be text of at most 64 characters without .*\(got "a,b"\)$/m,
    );
    expect(err.problems).toHaveLength(6);
    // Credentials never appear in a problem.
    expect(err.message).not.toContain('s3cret-pw');
  });

  it("config - binding problems are listed with the other settings' problems", () => {
    const file = writeFile(
      'agent.yaml',
      ['reportBatchSize: 5000', 'sinks:', '  out:', '    type: sqlite', '    path: /tmp/x.db', '    table: t'].join(
        '\n',
      ),
    );
    const err = configError(() => compileConfig({ file, env: {} }));
    expect(err.problems.join('\n')).toMatch(/^reportBatchSize: .*\(got 5000\)$/m);
    expect(err.problems).toContain('sinks.out.key: missing (required)');
    expect(err.problems).toHaveLength(2);
  });

  it('config - bindings of every type with their documented settings are accepted as they are', () => {
    const file = writeFile(
      'agent.yaml',
      [
        'sources:',
        '  a: { type: sqlite, path: /x.db, table: t, key: id, cursor: c, deleted: d, queryKeys: [id, n], requireAgreement: true }',
        '  b: { type: mysql, url: "mysql://u:p@h:3306/db", table: t, key: [id] }',
        '  c: { type: jsonl, dir: /in, key: id, pattern: "*.jsonl", encoding: GBK, maxLineBytes: 2048 }',
        '  d: { type: files, dir: /in, stableMs: 500 }',
        'sinks:',
        '  e: { type: postgres, host: db, port: 5432, user: u, password: p, database: dw, schema: s, table: t, key: [a, b] }',
        '  f: { type: sqlite, path: /y.db, table: t, key: id, synchronous: NORMAL }',
        '  g: { type: csv, dir: /out, key: id, nullString: "\\\\N", encoding: utf-16 }',
        '  h: { type: files, dir: /out }',
      ].join('\n'),
    );
    const c = compileConfig({ file, env: {} });
    expect(c.sources['c']).toEqual({
      type: 'jsonl',
      dir: '/in',
      key: 'id',
      pattern: '*.jsonl',
      encoding: 'GBK',
      maxLineBytes: 2048,
    });
    expect(c.sinks['g']?.['nullString']).toBe('\\N');
  });

  it('config - deploy/agent.example.yaml, one binding of every connector type, compiles', () => {
    const c = compileConfig({ file: 'deploy/agent.example.yaml', env: {} });
    const types = new Set([...Object.values(c.sources), ...Object.values(c.sinks)].map((b) => b.type));
    expect([...types].sort()).toEqual(['csv', 'files', 'jsonl', 'mariadb', 'mysql', 'postgres', 'sqlite']);
  });

  it('config - the agent binary exits with code 2 naming every bad binding before it starts anything', async () => {
    const dataDir = tmpDir('xchg-agent-badcfg-');
    const proc = spawnNode(
      distFile('bin/xchg-agent.js'),
      ['--config', writeFile('agent.yaml', BAD_BINDINGS), '--data-dir', dataDir],
      {
        XCHG_AGENT_CENTRAL: '127.0.0.1:1',
      },
    );
    expect(await proc.exited).toBe(2);
    const out = proc.output();
    for (const p of [
      'sources.people.kye: unknown setting',
      'sources.legal.port: must be integer',
      'sinks.warehouse.type: unknown connector type "oracle"',
      'sources.people.key: missing (required)',
    ])
      expect(out).toContain(p);
    expect(out).not.toContain('s3cret-pw');
  });
});
