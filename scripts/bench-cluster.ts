// The brain phase's clustering figures (issue 11, Done means), run by scripts/bench-brain.ts (BRAIN_FIGURES):
//   cluster_ari             adjusted Rand index of clusterPairs (domain/clustering.ts) against the planted
//   cluster_k               classes, the lowest of three provinces (seeds 2028-2030) of 250 pairs (100 with
//                           --quick) x 60 days of 5-min buckets from 2025-09-01 (National Day, 调休, 2 surges per
//                           pair, default noise), all five classes; cluster_k the k chosen there (mean
//                           silhouette); cluster_ari_by_seed and cluster_k_by_seed for each province
//   cluster_2000_pairs_s    features + clustering of 2000 pairs x 60 days, wall seconds (not the generation);
//                           cluster_2000_pairs_ari beside it; not with --quick
import { adjustedRandIndex, clusterPairs } from '../central/src/domain/clustering.js';
import { WorkingCalendar } from '../central/src/domain/calendar.js';
import { trafficFeaturesOf } from '../central/src/domain/traffic-features.js';
import type { BrainBenchOptions, BrainFigures } from './bench-brain.js';
import { CHINA_CALENDAR_2025_2026, generateProvince } from './sim/generate.js';

const cal = CHINA_CALENDAR_2025_2026;
const local = (date: string): number => Date.parse(`${date}T00:00:00+08:00`);
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** One province clustered: its ARI against the planted classes, k, and the seconds features + clustering took. */
function clusterProvince(pairs: number, seed: number): { ari: number; k: number; seconds: number } {
  const province = generateProvince({ pairs, days: 60, startMs: local('2025-09-01'), seed, calendar: cal });
  const inputs = province.pairs.map((p) => ({
    series: p.series,
    batches: p.series.values.map((v) => (v > 0 ? Math.ceil(v / p.recordsPerBatch) : 0)),
  }));
  const t0 = performance.now();
  const clustering = clusterPairs(trafficFeaturesOf(inputs, new WorkingCalendar(cal)), { seed });
  const seconds = (performance.now() - t0) / 1000;
  const ari = adjustedRandIndex(
    clustering.assignments,
    province.pairs.map((p) => p.cls),
  );
  return { ari, k: clustering.k, seconds };
}

/** cluster_ari (lowest of three seeds) and cluster_k, and the time to cluster 2000 pairs. */
export function clusterFigures(o: BrainBenchOptions): BrainFigures {
  const pairs = o.quick ? 100 : 250;
  o.say(`brain: clustering 3 provinces of ${pairs} pairs x 60 days against their planted classes`);
  const runs = [2028, 2029, 2030].map((seed) => clusterProvince(pairs, seed));
  const worst = runs.reduce((a, b) => (b.ari < a.ari ? b : a));
  const out: BrainFigures = {
    cluster_ari: round(worst.ari, 3),
    cluster_k: worst.k,
    cluster_ari_by_seed: runs.map((r) => r.ari.toFixed(3)).join(' '),
    cluster_k_by_seed: runs.map((r) => r.k).join(' '),
    cluster_pairs: pairs,
  };
  if (!o.quick) {
    o.say('brain: clustering 2000 pairs x 60 days (timed: features and clustering, not the generation)');
    const big = clusterProvince(2000, 2031);
    out.cluster_2000_pairs_s = round(big.seconds, 2);
    out.cluster_2000_pairs_ari = round(big.ari, 3);
  }
  return out;
}
