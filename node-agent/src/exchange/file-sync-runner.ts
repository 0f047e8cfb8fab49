// File transfer (文件传输), provider side: any file — text, images, video — in chunks with resume (断点续传).
// Scans the source directory; each settled file not yet delivered is sent as one transfer (file-stream.ts:
// chunks through the data plane's one publisher, receipts and recovery) of one file version. The task's
// policies (策略) apply before each scan: a closed transfer window starts no new transfer, the poll knob sets
// the scan interval (task-knobs.ts).
//
// Invariants
//  - Only a consistent snapshot is published (fault 7: a file rewritten in place mid-transfer must not
//    arrive with the old beginning and the new end). A transfer sends one version (fileVersion(): size,
//    mtime and ctime in ns, inode), fixed before its first chunk; every chunk read (re-sends too) is
//    followed by an fstat of the open file, and the last chunk also by a stat of the path (the same
//    inode must still be there), before it is published. Checking after the read is what makes it safe:
//    the kernel updates mtime/ctime before a write changes the bytes, and a file is started only once its
//    mtime is older than the settle time, so any write during the transfer leaves a different stamp. On a
//    change the transfer is abandoned (row forgotten, an `abandoned` message tells the consumer to discard
//    its part) and the new version is sent under a new file id once it has settled. The guarantee rests
//    on the file system keeping mtime/ctime current: on a network share, an attribute cache (NFS actimeo)
//    shorter than the settle time.
//  - A file is started only once its mtime is at least `stableMs` (the settle time, 2 s by default) old.
//  - On a restart the consumer's own answer (when it gives one) says where to resume; the provider
//    re-hashes the prefix once.
// Deletions and renames at the source (what a department expects of an exchange, not of a mirror):
//  - A file deleted at the source after delivery stays at the destination: the consumer owns what it
//    received. Deleted mid-transfer, its transfer is abandoned and nothing appears at the destination.
//  - A renamed file is a new file: it is delivered under its new name; the copy under the old name stays.
//  - A file changed after delivery is delivered again (same name: the new version replaces the old one).
import { fstatSync, statSync, type BigIntStats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { sleep } from '../backoff.js';
import { termsOf } from '../policy/agreement.js';
import { fileVersion, isDeliveredVersion, isVersion, type FileSpool, type FileTransfer } from '../spool/file-spool.js';
import type { TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { encodeEnvelopeHeader, ENVELOPE_HEADER } from '../transport/envelope.js';
import { abandonedEnvelope, addressing, type Addressing } from './batch.js';
import type { DataPlane } from './data-plane.js';
import { FileStream, type OpenVersion, type Outcome } from './file-stream.js';
import { RunnerKit, type DataPathContext } from './runner-kit.js';
import { TaskKnobs } from './task-knobs.js';
import type { SenderStream } from './streams.js';

export interface FilesBinding {
  type: 'files';
  dir: string;
  /**
   * Settle time in ms (default 2000): a file whose mtime is younger than this is not started yet (it may
   * still be being written); a file that changes while it is sent is sent again once it has settled.
   */
  stableMs?: number;
  /** Send only for tasks carrying an agreement (有条件共享). */
  requireAgreement?: boolean;
}

export interface FileSettings {
  /** Bytes per chunk (capped by the broker's max payload less 16 KiB). */
  fileChunkBytes: number;
  /** Bytes of chunks in flight beyond what the consumer committed, per transfer. */
  fileWindowBytes: number;
  /** Scan interval of the source directory (ms), unless the task has its own. */
  pollIntervalMs: number;
  /** Wait after a refusal before the file is sent again (ms). */
  receiptTimeoutMs: number;
  /** Interval of task_run reports (ms). */
  runReportIntervalMs: number;
}

/** Default settle time of a files source (FilesBinding.stableMs). */
export const DEFAULT_SETTLE_MS = 2_000;

const ignored = (name: string): boolean => name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('.part');

async function walk(root: string, dir = root, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (ignored(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(root, p, out);
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

/** The stream of a file task between transfers: owns no receipt, waits for nothing. */
const NO_TRANSFER: SenderStream = {
  kind: 'file',
  owns: () => false,
  receiptPosition: () => 0,
  gapPosition: () => 0,
  answerPosition: () => 0,
  acknowledgeQueued: () => undefined,
  acknowledge: () => 0,
  resend: () => 0,
  pending: () => undefined,
  refused: () => undefined,
};

/** Opens the version `t` names at `path`: undefined when gone, 'changed' when another version is there. */
async function openVersion(t: FileTransfer, path: string): Promise<OpenVersion | 'changed' | 'gone'> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!fh) return 'gone';
  // The version this transfer sends, fixed before the first chunk; every read is checked against it.
  const snap = await fh.stat({ bigint: true });
  const v = versionCheck(fh, snap, path);
  const before = isVersion(t, snap) ? v.atPath() : 'changed';
  if (!before) return v;
  await fh.close();
  return before;
}

function versionCheck(
  fh: FileHandle,
  snap: BigIntStats,
  path: string,
): OpenVersion & { atPath(): 'changed' | 'gone' | undefined } {
  /** Whether the path still names the open file (not deleted, renamed away or replaced). */
  const atPath = (): 'changed' | 'gone' | undefined => {
    const now = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (!now) return 'gone';
    return now.ino === snap.ino && now.dev === snap.dev ? undefined : 'changed';
  };
  /** Whether the open file is still the version of `snap` (an unlink or rename changes its ctime too). */
  const check = (last: boolean): 'changed' | 'gone' | undefined => {
    const now = fstatSync(fh.fd, { bigint: true });
    if (now.size !== snap.size || now.mtimeNs !== snap.mtimeNs || now.ctimeNs !== snap.ctimeNs)
      return atPath() ?? 'changed';
    return last ? atPath() : undefined;
  };
  return { fh, check, atPath };
}

/** What a file sync runner is given by its factory (runners.ts). */
export interface FileSyncDeps {
  dataPlane: DataPlane;
  /** Resume points of the task's transfers. */
  files: FileSpool;
  binding: FilesBinding;
  settings: FileSettings;
}

class FileSyncTask {
  readonly kit: RunnerKit;
  private readonly root: string;
  private readonly subject: string;
  private readonly agreementId: string;
  /** The transfer under way, if any. */
  current: FileStream | undefined;
  /** The knobs of the task's policies (transfer window and poll interval apply to file transfers). */
  private readonly knobs: TaskKnobs;

  constructor(
    private readonly task: TaskAssignment,
    ctx: DataPathContext,
    private readonly deps: FileSyncDeps,
  ) {
    if (!task.peerNodeId) throw new Error('file task has no destination node (peerNodeId)');
    if (!task.subscriptionId) throw new Error('file task has no subscription id');
    const terms = termsOf(task.params);
    if (deps.binding.requireAgreement && !terms.agreementId)
      throw new Error(`binding ${task.binding} shares only under an agreement, and this task carries none`);
    this.agreementId = terms.agreementId;
    this.root = resolve(deps.binding.dir);
    this.kit = new RunnerKit(task, ctx);
    this.knobs = new TaskKnobs(ctx.policies, task.id, this.kit);
    this.subject = deps.dataPlane.subjects.files(task.peerNodeId, task.id);
    // The readiness handshake runs for the task; each transfer then becomes its stream.
    deps.dataPlane.registerOutbound(
      task.id,
      { destinationNodeId: task.peerNodeId, subscriptionId: task.subscriptionId },
      NO_TRANSFER,
    );
  }

  private readonly address = (): Addressing => addressing(this.task, this.deps.dataPlane.nodeId, this.agreementId);

  /** Sends one transfer: where the consumer is, then the chunks from there. */
  private async send(t: FileTransfer, path: string): Promise<{ outcome: Outcome; refusal?: string | undefined }> {
    const { dataPlane, files, settings } = this.deps;
    const { signal, log, counters } = this.kit;
    while (!dataPlane.isReady(this.task.id) && !signal.aborted) await sleep(200, signal);
    const stream = new FileStream(t, {
      dataPlane,
      files,
      addressing: this.address,
      subject: this.subject,
      windowBytes: settings.fileWindowBytes,
      signal,
      log,
      onSent: (n) => (counters.bytes += n),
    });
    this.current = stream;
    dataPlane.replaceStream(this.task.id, stream);
    try {
      // The consumer knows best where it is (the spool's count lags by up to 32 chunks, and a consumer
      // may have lost its part); without an answer, resume from the spool's count.
      const where = await dataPlane.fileProgress(this.task.id, t.fileId, 2_000);
      if (where?.known) {
        if (where.complete) {
          log.info({ file: t.relPath, fileId: t.fileId }, 'the consumer already has the whole file');
          return { outcome: 'done' };
        }
        stream.acked = stream.chunksAt(where.committedBytes);
      }
      const file = await openVersion(t, path);
      if (typeof file === 'string') return { outcome: file };
      try {
        if (stream.acked > 0)
          log.info(
            { file: t.relPath, fileId: t.fileId, fromChunk: stream.acked, of: t.chunkCount },
            'resuming file transfer',
          );
        return { outcome: await stream.run(file), refusal: stream.refusedReason };
      } finally {
        await file.fh.close();
      }
    } finally {
      this.current = undefined;
      dataPlane.replaceStream(this.task.id, NO_TRANSFER); // late receipts of this transfer are ignored from now on
    }
  }

  /**
   * Gives a transfer up: its file changed or went away while it was sent (or while the agent was down).
   * The row is forgotten, so the next scan starts whatever is then at that path as a new transfer, and the
   * consumer is told to discard its part. Best effort: if the message does not get through, the consumer's
   * sweep removes the part, and the part can never be completed (its last chunk is never sent).
   */
  private async abandon(t: FileTransfer, reason: 'changed' | 'gone'): Promise<void> {
    const { dataPlane, files } = this.deps;
    files.forget(t.fileId);
    this.kit.log.info(
      { file: t.relPath, fileId: t.fileId, reason },
      'file transfer abandoned: the source file changed or went away while it was sent',
    );
    const env = abandonedEnvelope(this.address(), t);
    try {
      const transport = await dataPlane.connected();
      await dataPlane.publish(transport, {
        subject: this.subject,
        body: Buffer.alloc(0),
        id: env.batchId,
        sendCount: 0,
        headers: { [ENVELOPE_HEADER]: encodeEnvelopeHeader(env) },
        kind: 'chunk',
      });
    } catch (err) {
      this.kit.log.warn(
        { file: t.relPath, fileId: t.fileId, err: (err as Error).message },
        'could not tell the consumer a file transfer was abandoned; its sweep removes the part',
      );
    }
  }

  /** What a transfer's end means for the task: counted, sent again later, or abandoned. */
  private async settle(t: FileTransfer, outcome: Exclude<Outcome, 'stopped'>, refusal = 'refused'): Promise<void> {
    const { files, settings } = this.deps;
    const { log, counters } = this.kit;
    if (outcome === 'done') {
      files.complete(t.fileId, Date.now());
      counters.records++;
      counters.batches += t.chunkCount;
      log.info({ file: t.relPath, bytes: t.size, chunks: t.chunkCount }, 'file delivered');
    } else if (outcome === 'refused') {
      this.kit.failed(`${t.relPath}: ${refusal}`);
      log.warn({ file: t.relPath, reason: refusal }, 'consumer refused the file; it will be sent again from the start');
      files.begin({ ...t }, Date.now());
      await sleep(settings.receiptTimeoutMs, this.kit.signal); // a refusal (policy, checksum) is not retried at once
    } else await this.abandon(t, outcome); // the new version, if any, goes once it has settled
  }

  /** The transfer of the file at `relPath` to send now, or undefined (delivered, or not settled yet). */
  private async transferOf(
    relPath: string,
    st: BigIntStats,
    chunkBytes: number,
    settleMs: number,
  ): Promise<FileTransfer | undefined> {
    const { files } = this.deps;
    const t = files.get(this.task.id, relPath);
    if (t && t.state === 'done' && isDeliveredVersion(t, st)) return undefined;
    const mtimeMs = Number(st.mtimeNs / 1_000_000n);
    if (Date.now() - mtimeMs < settleMs) return undefined; // still being written: not before it has settled
    if (t && isVersion(t, st)) return t;
    // A version whose transfer never finished (it changed while the agent was not sending it).
    if (t?.state === 'sending') await this.abandon(t, 'changed');
    const size = Number(st.size);
    const next = files.begin(
      {
        taskId: this.task.id,
        relPath,
        size,
        mtimeMs,
        chunkBytes,
        chunkCount: Math.max(1, Math.ceil(size / chunkBytes)),
        version: fileVersion(st),
      },
      Date.now(),
    );
    this.kit.log.info({ file: next.relPath, bytes: size, chunks: next.chunkCount }, 'sending file');
    return next;
  }

  /** One pass over the source directory; false when the task is stopping. */
  private async scan(chunkBytes: number, settleMs: number): Promise<boolean> {
    const signal = this.kit.signal;
    const present = new Set<string>();
    for (const rel of await walk(this.root)) {
      if (signal.aborted) return false;
      const relPath = rel.split(sep).join('/');
      present.add(relPath);
      const path = join(this.root, rel);
      const st = await stat(path, { bigint: true }).catch(() => undefined);
      if (!st) continue; // gone since the walk
      const t = await this.transferOf(relPath, st, chunkBytes, settleMs);
      if (!t) continue;
      const { outcome, refusal } = await this.send(t, path);
      if (outcome === 'stopped') return false;
      await this.settle(t, outcome, refusal);
    }
    // Transfers of files that went away before they were finished (deleted while the agent was down).
    if (!signal.aborted)
      for (const t of this.deps.files.unfinished(this.task.id))
        if (!present.has(t.relPath)) await this.abandon(t, 'gone');
    return true;
  }

  async loop(): Promise<void> {
    const { dataPlane, settings, binding } = this.deps;
    const signal = this.kit.signal;
    const chunkBytes = Math.min(settings.fileChunkBytes, dataPlane.maxPayload() - 16 * 1024);
    const settleMs = binding.stableMs ?? DEFAULT_SETTLE_MS;
    while (!signal.aborted) {
      // The task's policies: a closed transfer window starts no transfer (one under way goes on) until its edge.
      const { knobs, nextChangeMs } = this.knobs.now();
      if (knobs.transfer !== 'closed')
        try {
          if (!(await this.scan(chunkBytes, settleMs))) break;
        } catch (err) {
          this.kit.failed((err as Error).message);
          this.kit.log.warn({ err: (err as Error).message }, 'file scan failed; retrying');
        }
      const waitMs =
        knobs.transfer === 'closed'
          ? 60_000
          : (knobs.pollIntervalMs ?? (this.task.intervalMs || settings.pollIntervalMs));
      await this.knobs.sleep(waitMs, signal, nextChangeMs);
    }
  }
}

export function createFileSyncRunner(task: TaskAssignment, ctx: DataPathContext, deps: FileSyncDeps): TaskRunner {
  const t = new FileSyncTask(task, ctx, deps);
  t.kit.startReports(deps.settings.runReportIntervalMs);
  const running = t.loop();
  return {
    lag: () => ({ lagMs: 0, pendingBatches: deps.files.pendingCount(task.id) }),
    async stop(graceMs: number) {
      const stopping = t.kit.stop();
      t.current?.interrupt();
      await Promise.race([Promise.all([running, stopping]), sleep(graceMs)]);
      t.kit.report();
      deps.dataPlane.unregisterOutbound(task.id);
    },
  };
}
