// The jobs' worker threads: the read-and-compute half of a heavy job (the brain's clustering) runs in a
// node:worker_threads Worker with its own read-only connection to central.db (WAL: a consistent snapshot while
// central writes) and hands back plain data; central's thread applies the writes in short transactions.
// One Worker per run (its connection closes with it). Invariant: after stop() no Worker starts, and stop()
// resolves once every Worker has exited; a run whose Worker was stopped rejects with JobWorkersStopped.
import { Worker } from 'node:worker_threads';
import type { CalendarSpec } from '../domain/calendar.js';
import type { ClusterComputed, ClusterWindow } from '../services/brain-cluster-input.js';

/** What a worker computes: the task, by kind, and the type of its answer. */
export interface WorkerTasks {
  cluster: { task: { kind: 'cluster'; window: ClusterWindow; calendar: CalendarSpec }; result: ClusterComputed };
}
export type WorkerTask = WorkerTasks[keyof WorkerTasks]['task'];

/** What the worker thread posts back (job-worker-main.ts). */
export type WorkerAnswer = { ok: true; value: unknown } | { ok: false; message: string; stack?: string };

/** The data a Worker starts with. */
export interface WorkerInput {
  /** central.db's path. */
  dbFile: string;
  task: WorkerTask;
}

/** The rejection of a run that stop() ended (the job logs nothing for it: central is stopping). */
export class JobWorkersStopped extends Error {
  constructor() {
    super('job workers stopped');
    this.name = 'JobWorkersStopped';
  }
}

export class JobWorkers {
  private readonly running = new Set<Worker>();
  private stopped = false;

  /**
   * `dbFile`: central.db (opened read-only by each worker). `entry`: the worker's module, by default the compiled
   * job-worker-main.js beside this file (tests from TypeScript sources have none; they run the jobs in process).
   */
  constructor(
    private readonly dbFile: string,
    private readonly entry: URL = new URL('./job-worker-main.js', import.meta.url),
  ) {}

  /** Runs `task` in a new Worker; resolves with its answer, rejects with its error (or JobWorkersStopped). */
  run<K extends keyof WorkerTasks>(task: WorkerTasks[K]['task']): Promise<WorkerTasks[K]['result']> {
    if (this.stopped) return Promise.reject(new JobWorkersStopped());
    const input: WorkerInput = { dbFile: this.dbFile, task };
    const worker = new Worker(this.entry, { workerData: input });
    this.running.add(worker);
    return new Promise<WorkerTasks[K]['result']>((resolve, reject) => {
      let answer: WorkerAnswer | undefined;
      worker.once('message', (m: WorkerAnswer) => (answer = m));
      worker.once('error', (err) => (answer = { ok: false, message: err.message, stack: err.stack ?? '' }));
      worker.once('exit', (code) => {
        this.running.delete(worker);
        if (this.stopped) reject(new JobWorkersStopped());
        else if (answer?.ok) resolve(answer.value as WorkerTasks[K]['result']);
        else if (answer)
          reject(Object.assign(new Error(`${task.kind} worker: ${answer.message}`), { stack: answer.stack }));
        else reject(new Error(`${task.kind} worker exited with code ${code} without an answer`));
      });
    });
  }

  /** Workers running now. */
  get size(): number {
    return this.running.size;
  }

  /** Stops every Worker (terminate) and waits until they have exited; no Worker starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running].map((w) => w.terminate()));
  }
}
