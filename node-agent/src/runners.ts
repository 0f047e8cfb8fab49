// Task runners this agent build provides, by task kind: sync (provider: read → process → spool → send)
// and exchange (consumer: receive → verify → write). A binding the config does not have, or a task
// without an exchange center, is rejected with a reason central shows to the operator.
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import { openSink, openSource, type BindingConfig } from './connectors/index.js';
import { createExchangeRunner } from './exchange/exchange-runner.js';
import { createFileExchangeRunner } from './exchange/file-receiver.js';
import { createFileSyncRunner, type FilesBinding } from './exchange/file-sync-runner.js';
import { dataPathOf, type DataPathContext } from './exchange/runner-kit.js';
import { createSyncRunner } from './exchange/sync-runner.js';
import { createVerifyRunner } from './reconcile/consumer.js';
import type { PipelineSpec } from './pipeline/index.js';
import type { RunnerFactory } from './tasks/supervisor.js';

/** The runner factories by task kind; each takes the data path from its context (DataPathContext). */
export function defaultRunners(config: AgentConfig, _logger: Logger): Record<string, RunnerFactory<DataPathContext>> {
  return {
    sync: (task, ctx) => {
      const { dataPlane, dataSpool, fileSpool } = dataPathOf(ctx);
      const binding = config.sources[task.binding] as BindingConfig | undefined;
      if (binding?.type === 'files') {
        if (typeof binding['dir'] !== 'string') throw new Error(`binding ${task.binding}: files source needs dir`);
        return createFileSyncRunner(task, ctx, {
          dataPlane,
          files: fileSpool,
          binding: binding as unknown as FilesBinding,
          settings: config.dataPlane,
        });
      }
      const source = openSource(task.binding, config.sources[task.binding] as BindingConfig | undefined);
      try {
        return createSyncRunner(task, ctx, {
          dataPlane,
          spool: dataSpool,
          source,
          settings: config.dataPlane,
          requireAgreement: binding?.['requireAgreement'] === true,
          // Reconciliation reads the same binding in full key order (no cursor).
          openScanSource: () => openSource(task.binding, { ...binding!, cursor: undefined }),
        });
      } catch (err) {
        void source.close();
        throw err;
      }
    },
    exchange: (task, ctx) => {
      const { dataPlane, dataSpool } = dataPathOf(ctx);
      const cfg = config.sinks[task.binding] as BindingConfig | undefined;
      if (cfg?.type === 'files') {
        if (typeof cfg['dir'] !== 'string') throw new Error(`binding ${task.binding}: files sink needs dir`);
        return createFileExchangeRunner(task, ctx, {
          dataPlane,
          binding: cfg as unknown as FilesBinding,
          runReportIntervalMs: config.dataPlane.runReportIntervalMs,
        });
      }
      const fields = (task.params as PipelineSpec).fields ?? [];
      const sink = openSink(task.binding, cfg, {
        columns: fields.map((f) => ({ name: f.as ?? f.name, type: f.type })),
        keyColumns: [],
      });
      return createExchangeRunner(task, ctx, {
        dataPlane,
        spool: dataSpool,
        sink,
        runReportIntervalMs: config.dataPlane.runReportIntervalMs,
      });
    },
    // Reconciliation (对账) of a subscription: compares the exchange task's sink with the provider's source.
    verify: (task, ctx) => {
      const { dataPlane } = dataPathOf(ctx);
      const fields = (task.params as PipelineSpec).fields ?? [];
      const sink = openSink(task.binding, config.sinks[task.binding] as BindingConfig | undefined, {
        columns: fields.map((f) => ({ name: f.as ?? f.name, type: f.type })),
        keyColumns: [],
      });
      try {
        return createVerifyRunner(task, ctx, { dataPlane, sink });
      } catch (err) {
        void sink.close();
        throw err;
      }
    },
  };
}
