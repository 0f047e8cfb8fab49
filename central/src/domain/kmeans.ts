// k-means (Lloyd) with k-means++ seeding and restarts, and the silhouette of a partition, pure and seeded:
// points are rows of a Float64Array (row-major, n × d), distances Euclidean. Used by domain/clustering.ts.

/** mulberry32 (Tommy Ettinger, public domain): a small seeded generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A k-means result over n points of d dimensions (row-major). */
export interface KMeansResult {
  assignments: Int32Array;
  centroids: Float64Array;
  /** Within-cluster sum of squared Euclidean distances. */
  sse: number;
}

function sqDist(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) {
    const diff = a[i * d + c]! - b[j * d + c]!;
    s += diff * diff;
  }
  return s;
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007): each next centre drawn with probability ∝ D(x)². */
function seedCentroids(x: Float64Array, n: number, d: number, k: number, rand: () => number): Float64Array {
  const c = new Float64Array(k * d);
  const near = new Float64Array(n).fill(Infinity);
  let pick = Math.min(n - 1, Math.floor(rand() * n));
  for (let j = 0; j < k; j++) {
    for (let e = 0; e < d; e++) c[j * d + e] = x[pick * d + e]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      near[i] = Math.min(near[i]!, sqDist(x, i, c, j, d));
      total += near[i]!;
    }
    if (total === 0) {
      pick = Math.floor(rand() * n); // every point sits on a centre: any point will do
      continue;
    }
    let r = rand() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= near[i]!;
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  return c;
}

/** Nearest centre of every point; returns the SSE and whether any assignment changed. */
function assign(
  x: Float64Array,
  n: number,
  d: number,
  c: Float64Array,
  k: number,
  out: Int32Array,
  dist: Float64Array,
) {
  let changed = false;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      const s = sqDist(x, i, c, j, d);
      if (s < bestD) {
        bestD = s;
        best = j;
      }
    }
    if (out[i] !== best) changed = true;
    out[i] = best;
    dist[i] = bestD;
    sse += bestD;
  }
  return { sse, changed };
}

/** Centroids as member means; an emptied cluster takes the point farthest from its centre. */
function update(x: Float64Array, n: number, d: number, c: Float64Array, k: number, a: Int32Array, dist: Float64Array) {
  const counts = new Float64Array(k);
  c.fill(0);
  for (let i = 0; i < n; i++) {
    const j = a[i]!;
    counts[j]!++;
    for (let e = 0; e < d; e++) c[j * d + e]! += x[i * d + e]!;
  }
  for (let j = 0; j < k; j++) {
    if (counts[j]! > 0) {
      for (let e = 0; e < d; e++) c[j * d + e]! /= counts[j]!;
      continue;
    }
    let far = 0;
    for (let i = 1; i < n; i++) if (dist[i]! > dist[far]!) far = i;
    for (let e = 0; e < d; e++) c[j * d + e] = x[far * d + e]!;
    dist[far] = 0;
  }
}

/** Lloyd's k-means from k-means++ seeds, `restarts` runs, the lowest SSE kept (the first of ties). */
export function kMeans(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  rand: () => number,
  restarts = 10,
  maxIterations = 100,
): KMeansResult {
  if (k < 1 || k > n) throw new RangeError(`k must be within 1..${n} (got ${k})`);
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const c = seedCentroids(x, n, d, k, rand);
    const a = new Int32Array(n).fill(-1);
    const dist = new Float64Array(n);
    let { sse } = assign(x, n, d, c, k, a, dist);
    for (let it = 0; it < maxIterations; it++) {
      update(x, n, d, c, k, a, dist);
      const step = assign(x, n, d, c, k, a, dist);
      sse = step.sse;
      if (!step.changed) break;
    }
    if (best === undefined || sse < best.sse) best = { assignments: a, centroids: c, sse };
  }
  return best!;
}

/** Distance matrices above this many entries are not kept (4 Mi × 4 bytes = 16 MiB); distances are recomputed. */
const MAX_KEPT_DISTANCES = 4_194_304;

/** Euclidean distances from each sampled point to every point (row s × n), or null when too large to keep. */
export function sampleDistances(x: Float64Array, n: number, d: number, sample: readonly number[]): Float32Array | null {
  if (sample.length * n > MAX_KEPT_DISTANCES) return null;
  const out = new Float32Array(sample.length * n);
  for (let s = 0; s < sample.length; s++) {
    const i = sample[s]!;
    for (let j = 0; j < n; j++) out[s * n + j] = Math.sqrt(sqDist(x, i, x, j, d));
  }
  return out;
}

/**
 * Mean silhouette (Rousseeuw 1987, J. Comput. Appl. Math. 20:53–65) over the points of `sample`:
 * s(i) = (b − a) / max(a, b), a = mean distance from i to the other members of its cluster, b = the smallest
 * mean distance from i to the members of another cluster; s(i) = 0 for a point alone in its cluster.
 * byCluster: the mean of s over each cluster's sampled members (0 when none). `distances` from
 * sampleDistances for the same sample, or null to compute them here.
 */
export function silhouette(
  x: Float64Array,
  n: number,
  d: number,
  assignments: Int32Array,
  k: number,
  sample: readonly number[],
  distances: Float32Array | null,
): { mean: number; byCluster: number[] } {
  const size = new Float64Array(k);
  for (let i = 0; i < n; i++) size[assignments[i]!]!++;
  const sums = new Float64Array(k);
  const byClusterSum = new Float64Array(k);
  const byClusterN = new Float64Array(k);
  let total = 0;
  for (let s = 0; s < sample.length; s++) {
    const i = sample[s]!;
    const own = assignments[i]!;
    sums.fill(0);
    for (let j = 0; j < n; j++)
      sums[assignments[j]!]! += distances ? distances[s * n + j]! : Math.sqrt(sqDist(x, i, x, j, d));
    let v = 0;
    if (size[own]! > 1) {
      const a = sums[own]! / (size[own]! - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) if (c !== own && size[c]! > 0) b = Math.min(b, sums[c]! / size[c]!);
      v = b === Infinity || Math.max(a, b) === 0 ? 0 : (b - a) / Math.max(a, b);
    }
    total += v;
    byClusterSum[own]! += v;
    byClusterN[own]!++;
  }
  return {
    mean: sample.length > 0 ? total / sample.length : 0,
    byCluster: Array.from(byClusterSum, (v, c) => (byClusterN[c]! > 0 ? v / byClusterN[c]! : 0)),
  };
}

/** `m` distinct indices of 0..n−1 drawn without replacement (partial Fisher–Yates), ascending; all when m ≥ n. */
export function sampleIndices(n: number, m: number, rand: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (m >= n) return idx;
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, m).sort((a, b) => a - b);
}
