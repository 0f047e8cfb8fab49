// Clustering of node pairs by traffic shape (聚类), pure and seeded: the features of domain/traffic-features.ts
// robustly standardised, k-means++ with restarts for k = 2..min(10, n − 1), k chosen by the mean silhouette;
// labels and policy templates from domain/cluster-labels.ts; the adjusted Rand index to score a clustering.
import type { TrafficFeatures } from './traffic-features.js';
import { clusterProfile, labelClusters, type ClusterLabel, type ClusterProfile } from './cluster-labels.js';
import { policyTemplate, type PolicyTemplate } from './cluster-policy.js';
import { kMeans, sampleDistances, sampleIndices, seededRandom, silhouette } from './kmeans.js';

/**
 * The dimensions clustered, each a function of the features and a weight (a standardised dimension is
 * multiplied by its weight, so weight² is its share in squared distances). Shape counts fully; volume and
 * batch size at half weight, so two pairs of one shape and different sizes stay together.
 * restWorkRatio enters as r / (1 + r) ∈ [0, 1] (bounded: a rest-day-only pair is 1, not 10); dispersion and
 * batch size on log10 scales (they span orders of magnitude). Burstiness (CV) and the active fraction are left
 * out: both grow as volume falls (Poisson noise and empty buckets of a small flow), so with them k-means split
 * every planted class of the simulator by volume (k = 9, ARI 0.77–0.80 on three seeds; without them k = 5,
 * ARI 1.0); dispersion measures noise beyond Poisson instead. They still inform the labels.
 */
export const CLUSTER_DIMENSIONS: readonly { name: string; weight: number; of: (f: TrafficFeatures) => number }[] = [
  { name: 'logVolume', weight: 0.5, of: (f) => f.logVolume },
  { name: 'logDispersion', weight: 1, of: (f) => Math.log10(0.003 + f.dispersion) },
  { name: 'acfDay', weight: 1, of: (f) => f.acfDay },
  { name: 'acfWeek', weight: 1, of: (f) => f.acfWeek },
  { name: 'nightShare', weight: 1, of: (f) => f.nightShare },
  { name: 'officeShare', weight: 1, of: (f) => f.officeShare },
  { name: 'restShare', weight: 1, of: (f) => f.restWorkRatio / (1 + f.restWorkRatio) },
  { name: 'weeklyPeakShare', weight: 1, of: (f) => f.weeklyPeakShare },
  { name: 'dailyEntropy', weight: 1, of: (f) => f.dailyEntropy },
  { name: 'logBatchSize', weight: 0.5, of: (f) => (f.batchSize === null ? NaN : Math.log10(f.batchSize)) },
];

/** Options of clusterPairs. */
export interface ClusterOptions {
  /** Seed of every random choice (k-means++ seeding, silhouette sample); default 1. Same seed, same result. */
  seed?: number;
  /** Largest k tried; default 10 (tried: 2..min(kMax, n − 1)). */
  kMax?: number;
  /** k-means++ runs per k, the lowest within-cluster sum of squares kept; default 10. */
  restarts?: number;
  /** Lloyd iterations per run at most; default 100 (a run stops earlier once no point changes cluster). */
  maxIterations?: number;
  /** Points the silhouette is averaged over (a seeded sample when n is larger); default 2000. */
  silhouetteSample?: number;
  /**
   * Below this best mean silhouette the pairs form one cluster; default 0.25, the bound under which Kaufman &
   * Rousseeuw (1990, Finding Groups in Data, ch. 2) read "no substantial structure has been found".
   */
  minSilhouette?: number;
}

/** One cluster: its members (indices into the input), profile, label and policy template. */
export interface PairCluster {
  id: number;
  members: number[];
  profile: ClusterProfile;
  label: ClusterLabel;
  policy: PolicyTemplate;
  /** Mean silhouette of its sampled members (0 when k = 1 or none sampled). */
  silhouette: number;
}

export interface Clustering {
  k: number;
  /** Cluster id of each input pair. */
  assignments: number[];
  /** Ordered by size, largest first (ties: the cluster holding the lower input index first). */
  clusters: PairCluster[];
  /** How k was chosen: the mean silhouette (Rousseeuw 1987) of the best k-means run for each k tried. */
  criterion: { name: 'mean-silhouette'; minSilhouette: number; byK: { k: number; silhouette: number; sse: number }[] };
  /** The clustered dimensions, and the median and scale each was standardised with. */
  dimensions: { name: string; weight: number; center: number; scale: number }[];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Clip of a standardised value: one extreme pair cannot stretch a dimension for everyone. */
export const Z_CLIP = 5;

/**
 * Robust standardisation of one column: z = (x − median) / s with s = IQR / 1.349 (the normal's σ from its
 * interquartile range), else 1.4826 × MAD, else the standard deviation, else 1 (a constant column); z clipped to
 * ±Z_CLIP; a missing value (NaN) takes the median (z = 0).
 */
export function robustScale(column: readonly number[]): { center: number; scale: number; z: number[] } {
  const known = column.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (known.length === 0) return { center: 0, scale: 1, z: column.map(() => 0) };
  const center = quantile(known, 0.5);
  let scale = (quantile(known, 0.75) - quantile(known, 0.25)) / 1.349;
  if (!(scale > 1e-12)) {
    const dev = known.map((v) => Math.abs(v - center)).sort((a, b) => a - b);
    scale = 1.4826 * quantile(dev, 0.5);
  }
  if (!(scale > 1e-12)) {
    const mean = known.reduce((a, b) => a + b, 0) / known.length;
    scale = Math.sqrt(known.reduce((a, v) => a + (v - mean) ** 2, 0) / known.length);
  }
  if (!(scale > 1e-12)) scale = 1;
  const z = column.map((v) => (Number.isFinite(v) ? Math.max(-Z_CLIP, Math.min(Z_CLIP, (v - center) / scale)) : 0));
  return { center, scale, z };
}

/** The standardised, weighted matrix of the features (row-major n × d) and each dimension's median and scale. */
export function featureMatrix(features: readonly TrafficFeatures[]): {
  x: Float64Array;
  dimensions: Clustering['dimensions'];
} {
  const n = features.length;
  const d = CLUSTER_DIMENSIONS.length;
  const x = new Float64Array(n * d);
  const dimensions = CLUSTER_DIMENSIONS.map((dim, c) => {
    const { center, scale, z } = robustScale(features.map(dim.of));
    for (let i = 0; i < n; i++) x[i * d + c] = z[i]! * dim.weight;
    return { name: dim.name, weight: dim.weight, center, scale };
  });
  return { x, dimensions };
}

/** Cluster ids renumbered by size (largest first; ties: the cluster with the lowest member index first). */
function renumber(a: Int32Array, k: number): number[] {
  const size = new Array<number>(k).fill(0);
  const first = new Array<number>(k).fill(Infinity);
  a.forEach((c, i) => {
    size[c]!++;
    first[c] = Math.min(first[c]!, i);
  });
  const order = [...size.keys()]
    .filter((c) => size[c]! > 0)
    .sort((p, q) => size[q]! - size[p]! || first[p]! - first[q]!);
  const map = new Array<number>(k).fill(-1);
  order.forEach((c, id) => (map[c] = id));
  return Array.from(a, (c) => map[c]!);
}

/**
 * Clusters pairs by their features: robust standardisation (robustScale) with CLUSTER_DIMENSIONS' weights,
 * k-means++ (kMeans: `restarts` runs, lowest SSE) for each k in 2..min(kMax, n − 1), and the k of the highest
 * mean silhouette (ties: the smaller k); one cluster when that silhouette is below minSilhouette or n < 3.
 * Deterministic given the seed. Each cluster gets its profile, label and policy template.
 */
export function clusterPairs(features: readonly TrafficFeatures[], opts: ClusterOptions = {}): Clustering {
  const seed = opts.seed ?? 1;
  const minSilhouette = opts.minSilhouette ?? 0.25;
  const n = features.length;
  const d = CLUSTER_DIMENSIONS.length;
  const { x, dimensions } = featureMatrix(features);
  const byK: Clustering['criterion']['byK'] = [];
  const sample = sampleIndices(n, opts.silhouetteSample ?? 2000, seededRandom(seed ^ 0x5eed));
  const distances = n >= 3 ? sampleDistances(x, n, d, sample) : null;
  let best: { k: number; a: Int32Array; sil: number; byCluster: number[] } | undefined;
  for (let k = 2; k <= Math.min(opts.kMax ?? 10, n - 1); k++) {
    const run = kMeans(x, n, d, k, seededRandom(seed * 1009 + k), opts.restarts ?? 10, opts.maxIterations ?? 100);
    const sil = silhouette(x, n, d, run.assignments, k, sample, distances);
    byK.push({ k, silhouette: sil.mean, sse: run.sse });
    if (best === undefined || sil.mean > best.sil)
      best = { k, a: run.assignments, sil: sil.mean, byCluster: sil.byCluster };
  }
  if (best === undefined || best.sil < minSilhouette)
    best = { k: n > 0 ? 1 : 0, a: new Int32Array(n), sil: 0, byCluster: [0] };
  const assignments = renumber(best.a, best.k);
  const k = n > 0 ? Math.max(...assignments) + 1 : 0;
  const members = Array.from({ length: k }, () => [] as number[]);
  assignments.forEach((c, i) => members[c]!.push(i));
  const profiles = members.map((m) => clusterProfile(m.map((i) => features[i]!)));
  const labels = labelClusters(profiles);
  const silOf = (id: number) => best.byCluster[best.a[members[id]![0]!]!] ?? 0;
  const clusters = members.map((m, id) => ({
    id,
    members: m,
    profile: profiles[id]!,
    label: labels[id]!,
    policy: policyTemplate(labels[id]!.base, profiles[id]!),
    silhouette: k > 1 ? silOf(id) : 0,
  }));
  return { k, assignments, clusters, criterion: { name: 'mean-silhouette', minSilhouette, byK }, dimensions };
}

const pairsOf = (m: number) => (m * (m - 1)) / 2;

/**
 * Adjusted Rand index of two partitions of the same items (Hubert & Arabie 1985, J. Classification 2:193–218):
 * with n_ij the contingency table, a_i and b_j its row and column sums and C(m) = m(m − 1)/2,
 * ARI = [Σ_ij C(n_ij) − Σ_i C(a_i) Σ_j C(b_j) / C(n)] / [½ (Σ_i C(a_i) + Σ_j C(b_j)) − Σ_i C(a_i) Σ_j C(b_j) / C(n)].
 * 1 for identical partitions (up to renaming), about 0 for independent ones, negative below chance. When the
 * denominator is 0 (both partitions trivial alike: one cluster each, or all singletons), 1. Throws RangeError
 * when the lengths differ.
 */
export function adjustedRandIndex(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length !== b.length) throw new RangeError(`partitions of different lengths (${a.length} ≠ ${b.length})`);
  const n = a.length;
  const cells = new Map<string, number>();
  const rows = new Map<string | number, number>();
  const cols = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const key = JSON.stringify([a[i], b[i]]);
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const c of cells.values()) index += pairsOf(c);
  let sa = 0;
  for (const r of rows.values()) sa += pairsOf(r);
  let sb = 0;
  for (const c of cols.values()) sb += pairsOf(c);
  const expected = n > 1 ? (sa * sb) / pairsOf(n) : 0;
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}
