// Task runners this agent build provides, by task kind. The data-plane runners (sync: read → process →
// spool → send; exchange: receive → verify → write) register here; kinds not listed are rejected with a
// reason that central shows to the operator.
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import type { RunnerFactory } from './tasks/supervisor.js';

export function defaultRunners(_config: AgentConfig, _logger: Logger): Record<string, RunnerFactory> {
  return {};
}
