// Every way the agent is started passes the same Node flags (node-agent/src/heap.ts AGENT_NODE_FLAGS): the
// systemd unit, the `#!` line of the built binary, and the launchers of the demo, the bench and the tests.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS } from '../../node-agent/src/heap.js';
import { distFile } from '../helpers/proc.js';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('agent launch - one set of Node flags', () => {
  it('agent launch - the unit, the #! line and the launchers pass AGENT_NODE_FLAGS', () => {
    expect(AGENT_NODE_FLAGS.length).toBeGreaterThan(0);
    const flags = AGENT_NODE_FLAGS.join(' ');
    const exec = /^ExecStart=(.*)$/m.exec(read('deploy/xchg-agent.service'))?.[1];
    expect(exec).toBe(`/usr/bin/node ${flags} /opt/xchg/dist/bin/xchg-agent.js --config /etc/xchg/agent.yaml`);
    expect(read('node-agent/src/main.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    for (const launcher of ['scripts/demo.ts', 'scripts/bench.ts', 'test/helpers/agent.ts'])
      expect(read(launcher), launcher).toMatch(/\.\.\.AGENT_NODE_FLAGS|AGENT_NODE_FLAGS,/);
  });
});

describe('agent launch - young-generation collections as data arrives', () => {
  it('agent launch - with AGENT_NODE_FLAGS, YoungCollector runs a scavenge every COLLECT_EVERY_BYTES received', () => {
    // A child process started as the agent is (the vitest worker has no --expose-gc).
    const script = `
      import { PerformanceObserver, constants } from 'node:perf_hooks';
      import { YoungCollector, COLLECT_EVERY_BYTES } from ${JSON.stringify(distFile('node-agent/src/heap.js'))};
      let minor = 0;
      const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++; });
      obs.observe({ entryTypes: ['gc'] });
      const c = new YoungCollector();
      const before = minor;
      for (let i = 0; i < 10; i++) c.received(COLLECT_EVERY_BYTES / 2 + 1);
      setTimeout(() => { obs.disconnect(); console.log(JSON.stringify({ active: c.active, minor: minor - before })); }, 200);
    `;
    const out = execFileSync(process.execPath, [...AGENT_NODE_FLAGS, '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { active: boolean; minor: number };
    expect(r.active).toBe(true);
    // 10 × (half + 1 byte) = 5 thresholds crossed; allocation may add a few scavenges of its own.
    expect(r.minor).toBeGreaterThanOrEqual(5);
  });
});
