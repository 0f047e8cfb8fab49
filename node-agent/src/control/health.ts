// The node's health as heartbeats and metrics reports carry it (proto NodeHealth): uptime, CPU since the
// previous sample, memory, disk free, spool depth and bytes, lag per task, state and assignment version.
import { statfsSync } from 'node:fs';
import { VERSION } from '../../../common/src/version.js';
import { CONNECTOR_TYPES } from '../connectors/registry.js';
import type { NodeHealth } from '../../../proto/index.js';

/** Where a sample's figures come from (read at each sample). */
export interface HealthSources {
  /** Directory whose file system's free space is reported. */
  dataDir: string;
  clock: () => number;
  state: () => string;
  assignmentVersion: () => number;
  outboxDepth: () => number;
  /** Bytes of the spool database (0 when closed). */
  spoolBytes: () => number;
  /** Data batches waiting in the spool's outbox. */
  spoolBatches: () => number;
  lags: () => readonly { taskId: string; lagMs: number; pendingBatches: number }[];
  /** Source bindings a flow can be spread over (central spreads a flow only among agents declaring it). */
  bindings?: () => readonly string[];
}

/**
 * Names of the source bindings a flow can be spread over: incremental SQL sources (a cursor column). Files and
 * full-sync sources cannot be read by key-hash shard, so they are not declared and never spread.
 */
export function spreadableBindings(sources: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(sources)
    .filter(([, b]) => {
      const s = b as { type?: unknown; cursor?: unknown } | null;
      const type = typeof s?.type === 'string' && Object.hasOwn(CONNECTOR_TYPES, s.type) ? s.type : undefined;
      return !!type && CONNECTOR_TYPES[type]!.shardable === true && typeof s!.cursor === 'string' && s!.cursor !== '';
    })
    .map(([name]) => name)
    .sort();
}

export class HealthSampler {
  private readonly startedAt: number;
  private lastCpu = process.cpuUsage();
  private lastCpuAt = process.hrtime.bigint();

  constructor(private readonly src: HealthSources) {
    this.startedAt = src.clock();
  }

  /** A sample; its CPU figure covers the time since the previous sample. */
  sample(): NodeHealth {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastCpuAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = now;
    const src = this.src;
    return {
      agentVersion: VERSION,
      uptimeS: Math.floor((src.clock() - this.startedAt) / 1000),
      cpuPercent: elapsedUs > 0 ? Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10 : 0,
      memRssBytes: process.memoryUsage.rss(),
      diskFreeBytes: diskFreeBytes(src.dataDir),
      spoolDepth: src.spoolBatches(),
      spoolBytes: src.spoolBytes(),
      taskLags: src.lags().map((l) => ({ taskId: l.taskId, lagMs: l.lagMs, pendingBatches: l.pendingBatches })),
      state: src.state(),
      assignmentVersion: src.assignmentVersion(),
      outboxDepth: src.outboxDepth(),
      bindings: [...(src.bindings?.() ?? [])],
    };
  }
}

function diskFreeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return 0; // data dir gone: report 0
  }
}
