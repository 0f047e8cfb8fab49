// Every way the agent is started passes the same Node flags (node-agent/src/heap.ts AGENT_NODE_FLAGS): the
// systemd unit, the `#!` line of the built binary, and the launchers of the demo, the bench and the tests.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS } from '../../node-agent/src/heap.js';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('agent launch - one set of Node flags', () => {
  it('agent launch - the unit, the #! line and the launchers pass AGENT_NODE_FLAGS', () => {
    expect(AGENT_NODE_FLAGS.length).toBeGreaterThan(0);
    const flags = AGENT_NODE_FLAGS.join(' ');
    const exec = /^ExecStart=(.*)$/m.exec(read('deploy/xchg-agent.service'))?.[1];
    expect(exec).toBe(`/usr/bin/node ${flags} /opt/xchg/dist/node-agent/src/main.js --config /etc/xchg/agent.yaml`);
    expect(read('node-agent/src/main.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    for (const launcher of ['scripts/demo.ts', 'scripts/bench.ts', 'test/helpers/agent.ts'])
      expect(read(launcher), launcher).toMatch(/\.\.\.AGENT_NODE_FLAGS|AGENT_NODE_FLAGS,/);
  });
});
