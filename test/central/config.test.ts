// Central's configuration: defaults, unknown keys, every problem at once, environment and file layers with
// their precedence (flags > env > file > defaults). Files are real files in a temp dir.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { compileConfig, ConfigError, DEFAULTS } from '../../central/src/config.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

afterAll(removeTmpDirs);

/** The ConfigError that compiling `sources` throws (fails the test when it compiles). */
function problems(sources: Parameters<typeof compileConfig>[0]): string[] {
  try {
    compileConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, the configuration compiled');
}

function file(name: string, text: string): string {
  const f = join(tmpDir('xchg-config-'), name);
  writeFileSync(f, text);
  return f;
}

describe('config defaults', () => {
  it('defaults - compile on their own into a deeply frozen copy equal to DEFAULTS', () => {
    const c = compileConfig({ env: {} });
    expect(c).toEqual(DEFAULTS);
    expect(c).not.toBe(DEFAULTS);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(Object.isFrozen(c.dataPlane.natsUrls)).toBe(true);
    expect(Object.isFrozen(DEFAULTS)).toBe(false);
  });

  it('defaults - the documented values: 15 s heartbeat TTL, 30 s poll, HTTP 8080, gRPC 7443', () => {
    const c = compileConfig({ env: {} });
    expect([c.heartbeatTtlMs, c.pollTimeoutMs, c.http.port, c.grpc.port, c.logLevel]).toEqual([
      15_000,
      30_000,
      8080,
      7443,
      'info',
    ]);
  });
});

describe('config validation', () => {
  it('validation - an unknown key is rejected naming the key, at the top level and nested', () => {
    const p = problems({ env: {}, overrides: { colour: 'red', http: { prot: 80 } } });
    expect(p).toEqual(expect.arrayContaining(['colour: unknown setting', 'http.prot: unknown setting']));
    expect(p).toHaveLength(2);
  });

  it('validation - several problems are reported at once', () => {
    const err = (() => {
      try {
        compileConfig({
          env: { XCHG_CENTRAL_GRPC_PORT: 'seven' },
          overrides: { bogus: true, http: { port: 70_000 }, heartbeatTtlMs: 5, logLevel: 'loud' },
        });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toHaveLength(5);
    expect(err.problems).toEqual(
      expect.arrayContaining([
        'XCHG_CENTRAL_GRPC_PORT: expected a non-negative integer, got "seven"',
        'bogus: unknown setting',
        expect.stringMatching(/^http\.port: .*\(got 70000\)$/),
        expect.stringMatching(/^heartbeatTtlMs: .*\(got 5\)$/),
        expect.stringMatching(/^logLevel: .*\(got "loud"\)$/),
      ]),
    );
    // The message lists them all, one per line.
    for (const p of err.problems) expect(err.message).toContain(p);
    expect(err.message.split('\n')).toHaveLength(6);
  });

  it('validation - a wrong type names the setting and the value given', () => {
    const p = problems({ env: {}, overrides: { pollTimeoutMs: 'soon' } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^pollTimeoutMs: .*\(got "soon"\)$/);
  });

  it('validation - a NATS URL without nats:// or tls:// is refused naming its index', () => {
    const p = problems({ env: { XCHG_CENTRAL_NATS_URLS: 'nats://a:4222,http://b:4222' } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^dataPlane\.natsUrls\.1: .*\(got "http:\/\/b:4222"\)$/);
  });

  it('validation - an admin token shorter than 16 characters is refused', () => {
    expect(problems({ env: { XCHG_ADMIN_TOKEN: 'short' } })[0]).toMatch(/^adminToken: /);
    expect(compileConfig({ env: { XCHG_ADMIN_TOKEN: 'x'.repeat(16) } }).adminToken).toBe('x'.repeat(16));
  });
});

describe('config environment', () => {
  it('environment - ints, strings and lists override the defaults and leave siblings alone', () => {
    const c = compileConfig({
      env: {
        XCHG_CENTRAL_HTTP_PORT: '9090',
        XCHG_CENTRAL_HEARTBEAT_TTL_MS: '2000',
        XCHG_CENTRAL_DATA_DIR: '/srv/xchg',
        XCHG_CENTRAL_NATS_URLS: ' nats://a:4222 , tls://b:4222,,',
        XCHG_LOG_LEVEL: 'debug',
      },
    });
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(c.heartbeatTtlMs).toBe(2000);
    expect(c.dataDir).toBe('/srv/xchg');
    expect(c.dataPlane).toEqual({ ...DEFAULTS.dataPlane, natsUrls: ['nats://a:4222', 'tls://b:4222'] });
    expect(c.logLevel).toBe('debug');
  });

  it('environment - an empty variable counts as unset', () => {
    expect(compileConfig({ env: { XCHG_CENTRAL_HTTP_PORT: '', XCHG_LOG_LEVEL: '' } }).http.port).toBe(8080);
  });

  it('environment - invalid integers are refused naming the variable', () => {
    for (const raw of ['-1', '1.5', '80abc', ' 80']) {
      expect(problems({ env: { XCHG_CENTRAL_POLL_TIMEOUT_MS: raw } })).toEqual([
        `XCHG_CENTRAL_POLL_TIMEOUT_MS: expected a non-negative integer, got ${JSON.stringify(raw)}`,
      ]);
    }
  });

  it('environment - an integer outside its range is refused naming the setting', () => {
    const p = problems({ env: { XCHG_CENTRAL_LIVENESS_CHECK_INTERVAL_MS: '1' } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^livenessCheckIntervalMs: .*\(got 1\)$/);
  });

  it('environment - only the variables of the table are read; others are ignored', () => {
    expect(compileConfig({ env: { XCHG_CENTRAL_COLOUR: 'red', HOME: '/root' } })).toEqual(DEFAULTS);
  });
});

describe('config file', () => {
  it('file - a YAML file sets nested settings and keeps the defaults of the others', () => {
    const f = file(
      'central.yaml',
      'dataDir: /srv/central\nhttp:\n  port: 8081\ndataPlane:\n  natsUrls: [nats://10.0.0.1:4222]\n  homeCenter: city-nc\n',
    );
    const c = compileConfig({ file: f, env: {} });
    expect(c.dataDir).toBe('/srv/central');
    expect(c.http).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(c.dataPlane).toEqual({
      natsUrls: ['nats://10.0.0.1:4222'],
      subjectPrefix: 'xchg',
      stream: 'XCHG_DATA',
      homeCenter: 'city-nc',
    });
  });

  it('file - a JSON file works too', () => {
    const f = file('central.json', JSON.stringify({ grpc: { port: 7000 }, logLevel: 'warn' }));
    const c = compileConfig({ file: f, env: {} });
    expect([c.grpc.port, c.logLevel]).toEqual([7000, 'warn']);
  });

  it('file - a YAML syntax error names the file', () => {
    const f = file('broken.yaml', 'http:\n  port: [8080\n  host: x\n');
    const p = problems({ file: f, env: {} });
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(`config file ${f}: not valid YAML/JSON`);
  });

  it('file - a missing file names the file', () => {
    const f = join(tmpDir('xchg-config-'), 'absent.yaml');
    const p = problems({ file: f, env: {} });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^config file ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*ENOENT`));
  });

  it('file - a file whose top level is not a mapping is refused naming the file', () => {
    const f = file('list.yaml', '- a\n- b\n');
    expect(problems({ file: f, env: {} })).toEqual([`config file ${f}: top level must be a mapping of settings`]);
  });

  it('file - an empty file means all defaults', () => {
    expect(compileConfig({ file: file('empty.yaml', ''), env: {} })).toEqual(DEFAULTS);
  });

  it('file - unknown keys in the file are reported together with bad environment values', () => {
    const f = file('central.yaml', 'htp:\n  port: 1\nheartbeatTtl: 5\n');
    const p = problems({ file: f, env: { XCHG_CENTRAL_HTTP_PORT: 'x' } });
    expect(p).toHaveLength(3);
    expect(p).toEqual(
      expect.arrayContaining([
        'htp: unknown setting',
        'heartbeatTtl: unknown setting',
        expect.stringContaining('XCHG_CENTRAL_HTTP_PORT'),
      ]),
    );
  });
});

describe('config precedence', () => {
  it('precedence - overrides beat env, env beats file, file beats defaults, per setting', () => {
    const f = file(
      'central.yaml',
      'http:\n  host: 127.0.0.1\n  port: 1111\ngrpc:\n  port: 4444\npollTimeoutMs: 5000\n',
    );
    const env = { XCHG_CENTRAL_HTTP_PORT: '2222', XCHG_CENTRAL_POLL_TIMEOUT_MS: '6000' };

    expect(compileConfig({ file: f, env: {} }).http.port).toBe(1111);
    expect(compileConfig({ file: f, env }).http.port).toBe(2222);
    const c = compileConfig({ file: f, env, overrides: { http: { port: 3333 } } });
    expect(c.http).toEqual({ host: '127.0.0.1', port: 3333 }); // host from the file survives the override of port
    expect(c.pollTimeoutMs).toBe(6000); // env over file
    expect(c.grpc).toEqual({ host: '0.0.0.0', port: 4444 }); // file over defaults
    expect(c.heartbeatTtlMs).toBe(DEFAULTS.heartbeatTtlMs); // defaults where nothing says otherwise
  });

  it('precedence - an override of 0 (a free port) wins over the environment', () => {
    const c = compileConfig({ env: { XCHG_CENTRAL_GRPC_PORT: '7444' }, overrides: { grpc: { port: 0 } } });
    expect(c.grpc.port).toBe(0);
  });
});

describe('config governance', () => {
  it('governance - defaults: 10 working days, UTC+8, a one-year agreement, the built-in holidays and make-up days', () => {
    const g = compileConfig({ env: {} }).governance;
    expect([g.approvalWorkingDays, g.utcOffsetMinutes, g.agreementValidityDays, g.sweepIntervalMs]).toEqual([
      10, 480, 365, 60_000,
    ]);
    expect(g.holidays).toContain('2025-01-29');
    expect(g.workdays).toContain('2025-01-26');
  });

  it('governance - a file replaces the calendar lists and the deadline; the environment overrides the deadline', () => {
    const f = file(
      'central.yaml',
      'governance:\n  approvalWorkingDays: 5\n  holidays: ["2027-01-01"]\n  workdays: []\n',
    );
    const g = compileConfig({ file: f, env: {} }).governance;
    expect([g.approvalWorkingDays, g.holidays, g.workdays, g.utcOffsetMinutes]).toEqual([5, ['2027-01-01'], [], 480]);
    const e = compileConfig({
      file: f,
      env: { XCHG_CENTRAL_APPROVAL_WORKING_DAYS: '3', XCHG_CENTRAL_HOLIDAYS: '2027-02-01,2027-02-02' },
    }).governance;
    expect([e.approvalWorkingDays, e.holidays]).toEqual([3, ['2027-02-01', '2027-02-02']]);
  });

  it('governance - a malformed date, a zero deadline and an unknown governance key are each named', () => {
    const p = problems({
      env: {},
      overrides: { governance: { holidays: ['2025/01/01'], approvalWorkingDays: 0, autoApprove: true } },
    });
    expect(p).toEqual(expect.arrayContaining(['governance.autoApprove: unknown setting']));
    expect(p.some((x) => x.startsWith('governance.holidays.0: '))).toBe(true);
    expect(p.some((x) => x.startsWith('governance.approvalWorkingDays: '))).toBe(true);
  });
});
