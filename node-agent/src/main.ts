#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
// xchg-agent: wires config → logger → agent → signals. Exit codes: 0 clean stop, 1 fatal error,
// 2 invalid configuration, 3 enrollment refused or no identity.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { VERSION } from '../../common/src/version.js';
import { Agent } from './agent.js';
import { compileConfig, ConfigError, type AgentConfig } from './config.js';
import { AgentError, AgentErrorCode } from './errors.js';
import { tuneHeap } from './heap.js';
import { defaultRunners } from './runners.js';

const USAGE = `usage: xchg-agent [--config FILE] [--data-dir DIR] [--central HOST:PORT] [--enroll-token TOKEN]

Runs the front-end agent (前置机代理) of one department node.
Environment: XCHG_AGENT_CONFIG and the XCHG_AGENT_* variables listed in deploy/agent.example.yaml.`;

async function main(): Promise<void> {
  tuneHeap();
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      central: { type: 'string' },
      'enroll-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (values.version) return void console.log(VERSION);

  const overrides: Record<string, unknown> = {};
  if (values['data-dir']) overrides['dataDir'] = values['data-dir'];
  const central: Record<string, unknown> = {};
  if (values.central) central['address'] = values.central;
  if (values['enroll-token']) central['enrollToken'] = values['enroll-token'];
  if (Object.keys(central).length) overrides['central'] = central;

  let config: AgentConfig;
  try {
    config = compileConfig({ file: values.config ?? process.env['XCHG_AGENT_CONFIG'], overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`xchg-agent: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }

  const logger = pino({
    level: config.logLevel,
    base: { svc: 'xchg-agent' },
    redact: ['*.nodeSecret', '*.enrollToken', '*.password'],
  });
  const agent = new Agent(config, { logger, runners: defaultRunners(config, logger) });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'agent stopping');
    agent.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await agent.start();
  } catch (err) {
    if (
      err instanceof AgentError &&
      (err.code === AgentErrorCode.ENROLL_REFUSED || err.code === AgentErrorCode.NOT_ENROLLED)
    ) {
      if (stopping) return;
      console.error(`xchg-agent: ${err.message}`);
      process.exit(3);
    }
    throw err;
  }
  logger.info({ nodeId: agent.nodeId, version: VERSION }, 'agent running');
}

main().catch((err: unknown) => {
  console.error('xchg-agent: fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
