// Time slices for the jobs' work on central's event loop: a long loop awaits pause() between its steps, and pause
// hands the loop back (setImmediate: HTTP, gRPC and timers run) once the slice has lasted budgetMs, so that no job
// holds the loop much longer than a step past the budget.
import { setImmediate as yieldLoop } from 'node:timers/promises';

/** Default slice, ms: well under the 100 ms a dashboard request or a heartbeat may wait on a job. */
export const SLICE_BUDGET_MS = 20;

/**
 * A pause function: resolves at once (a microtask) while the current slice is shorter than `budgetMs`, otherwise
 * after the event loop has turned once, starting a new slice. `budgetMs` must be positive.
 */
export function slicer(budgetMs = SLICE_BUDGET_MS): () => Promise<void> {
  if (!(budgetMs > 0)) throw new Error(`slice budget must be positive, got ${budgetMs} ms`);
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart < budgetMs) return;
    await yieldLoop();
    sliceStart = performance.now();
  };
}
