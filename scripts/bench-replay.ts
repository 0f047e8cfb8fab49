// The bench's replay figure (issue 11, Done means; brain phase): the compressed-time replay through real agents
// (scripts/sim/replay.ts) run once, (a) no policies then (b) the brain's static and dynamic policies, back to back
// on the same processes. One simulated hour lasts 20 s (the span of 3 simulated hours: about 1 min a run), the
// span's largest bucket written at 8,000 records/s; about 4 minutes in all with the setup.
//   policy_p99_gain_pct     (p99 without - p99 with) / p99 without, %, of the delivery latency (insert into the
//                           provider's source → first seen in the consumer's sink) of records inserted in the
//                           span's peak simulated hour; target >= 30; negative: the policies made it worse
//   policy_peak_p99_ms_without / _with beside it
import { replayMode } from './sim/replay.js';

export async function replayFigures(o: {
  quick?: boolean;
  say: (msg: string) => void;
}): Promise<Record<string, number | null>> {
  o.say('brain: compressed-time replay through real agents, without and with policies');
  // Three rounds (medians) in the full bench: single rounds on a shared 2-core machine varied 1.2-3.3 s at p99.
  const rounds = o.quick ? 1 : 3;
  const r = await replayMode({ json: false, seed: 2026, hourSeconds: 20, peakRate: 8000, print: false, rounds });
  return {
    policy_p99_gain_pct: r['policy_p99_gain_pct'] as number,
    policy_peak_p99_ms_without: r['peak_p99_ms_without'] as number,
    policy_peak_p99_ms_with: r['peak_p99_ms_with'] as number,
  };
}
