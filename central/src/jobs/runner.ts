// Central's periodic jobs (sweeps now; scheduling and alert evaluation later): each a name, an interval
// and a function. Invariants: a job never runs twice at once (a tick that finds it running is skipped, not
// queued); a failing run is logged with the job's name and the job keeps its schedule; stop() cancels
// every timer and resolves only once the runs in progress have finished. States: 'IDLE' → 'RUNNING' → 'STOPPED'.
import type { Logger } from 'pino';

/** One periodic job. */
export interface JobSpec {
  /** Unique name, shown in every log line of the job (e.g. 'liveness-sweep'). */
  name: string;
  /** Time between the starts of two runs, in ms (fixed rate; a run still going at a tick skips that tick). */
  intervalMs: number;
  /** Run once at start() as well, before the first interval has passed (default false). */
  runAtStart?: boolean;
  /** The work; a thrown error or a rejected promise is logged and the next tick runs the job again. */
  run: () => void | Promise<void>;
}

export type JobRunnerState = 'IDLE' | 'RUNNING' | 'STOPPED';

interface Job {
  spec: JobSpec;
  timer: NodeJS.Timeout | undefined;
  /** The run in progress, if any (the no-overlap guard and what stop() awaits). */
  current: Promise<void> | undefined;
  /** Ticks skipped because the previous run was still going. */
  skipped: number;
}

/** Called after every run: the job's name, how long it took (ms), whether it succeeded (metrics). */
export type JobRunObserver = (name: string, durationMs: number, ok: boolean) => void;

export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private state: JobRunnerState = 'IDLE';

  constructor(
    private readonly logger: Logger,
    private readonly onRun?: JobRunObserver,
  ) {}

  /** Adds a job; before start() or while running (then it is scheduled at once). */
  add(spec: JobSpec): this {
    if (this.state === 'STOPPED') throw new Error(`job ${spec.name}: the runner is stopped`);
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name}: a job of this name exists`);
    if (!(spec.intervalMs > 0))
      throw new Error(`job ${spec.name}: intervalMs must be positive, got ${spec.intervalMs}`);
    const job: Job = { spec, timer: undefined, current: undefined, skipped: 0 };
    this.jobs.set(spec.name, job);
    if (this.state === 'RUNNING') this.schedule(job);
    return this;
  }

  /** Starts every job's schedule (runAtStart jobs run now). */
  start(): void {
    if (this.state !== 'IDLE') throw new Error(`job runner is ${this.state}`);
    this.state = 'RUNNING';
    for (const job of this.jobs.values()) this.schedule(job);
  }

  /** Cancels every schedule and waits for the runs in progress; no run starts after it is called. */
  async stop(): Promise<void> {
    this.state = 'STOPPED';
    for (const job of this.jobs.values()) clearInterval(job.timer);
    await Promise.all([...this.jobs.values()].map((j) => j.current));
  }

  /** Names of the jobs running at this moment. */
  running(): string[] {
    return [...this.jobs.values()].filter((j) => j.current !== undefined).map((j) => j.spec.name);
  }

  private schedule(job: Job): void {
    job.timer = setInterval(() => this.tick(job), job.spec.intervalMs);
    if (job.spec.runAtStart) this.tick(job);
  }

  private tick(job: Job): void {
    if (this.state !== 'RUNNING') return;
    if (job.current) {
      job.skipped++;
      this.logger.debug({ job: job.spec.name, skipped: job.skipped }, 'job still running; tick skipped');
      return;
    }
    job.current = this.runOnce(job).finally(() => {
      job.current = undefined;
    });
  }

  private async runOnce(job: Job): Promise<void> {
    const started = Date.now();
    try {
      await job.spec.run();
      this.onRun?.(job.spec.name, Date.now() - started, true);
    } catch (err) {
      this.logger.error({ err, job: job.spec.name, durationMs: Date.now() - started }, 'job failed');
      this.onRun?.(job.spec.name, Date.now() - started, false);
    }
  }
}
