// The knobs in force for one running task (策略生效): asked at every step of its runner, so a window edge or
// a new policy takes effect without a restart; each change is logged once (INFO 'policy knobs changed'
// with the knobs before and after and the policies that set them) and reported as an event to central.
import { describeKnobs, type KnobsInForce } from '../../../common/src/policy-knobs.js';
import { sleep } from '../backoff.js';
import type { PolicyBook } from '../policy/book.js';
import type { RunnerKit } from './runner-kit.js';

export class TaskKnobs {
  private shown = 'task defaults';

  /**
   * @param book the node's policies; undefined: no policies (the task's own settings always)
   * @param clock wall clock, ms (Date.now): windows are evaluated against it
   */
  constructor(
    private readonly book: PolicyBook | undefined,
    private readonly taskId: string,
    private readonly kit: RunnerKit,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The knobs in force now; a change since the last call is logged and reported. */
  now(): KnobsInForce {
    const f = this.book?.knobs(this.taskId, this.clock()) ?? { knobs: {}, sources: [], nextChangeMs: undefined };
    const shown = describeKnobs(f.knobs);
    if (shown !== this.shown) {
      const policies = f.sources.map((s) => `${s.policyId}${s.window === 'outside' ? '' : `#${s.window}`}`);
      this.kit.log.info({ from: this.shown, to: shown, policies, knobs: f.knobs }, 'policy knobs changed');
      this.kit.event('info', 'POLICY_KNOBS', `knobs in force: ${shown} (policies: ${policies.join(', ') || 'none'})`);
      this.shown = shown;
    }
    return f;
  }

  /** Sleeps `ms`, woken early by `signal`, at `nextChangeMs` (the next edge of the knobs) or by a change of the policies. */
  async sleep(ms: number, signal: AbortSignal, nextChangeMs: number | undefined): Promise<void> {
    const w = this.wakeSignal(signal, nextChangeMs);
    try {
      await sleep(ms, w.signal);
    } finally {
      w.dispose();
    }
  }

  /**
   * A signal for a wait that should end early at the next edge of the knobs (`nextChangeMs`) or when the
   * node's policies change, besides `signal`. Call dispose() when the wait is over.
   */
  wakeSignal(signal: AbortSignal, nextChangeMs: number | undefined): { signal: AbortSignal; dispose: () => void } {
    const ac = new AbortController();
    const wake = (): void => ac.abort();
    signal.addEventListener('abort', wake, { once: true });
    const unsubscribe = this.book?.onChange(wake);
    const timer =
      nextChangeMs === undefined
        ? undefined
        : setTimeout(wake, Math.max(0, Math.min(2 ** 31 - 1, nextChangeMs - this.clock())));
    return {
      signal: ac.signal,
      dispose: () => {
        if (timer) clearTimeout(timer);
        unsubscribe?.();
        signal.removeEventListener('abort', wake);
      },
    };
  }
}
