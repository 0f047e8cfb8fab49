// Readable labels (English and Chinese) and static-policy templates of traffic clusters, pure: a cluster's
// profile (member medians and mean profiles) → a base label by ordered rules → a distinguishing suffix when
// two clusters share a base → the policy template a pair of that shape should start from.
import type { TrafficFeatures } from './traffic-features.js';

/** Base labels; the first five are the shapes the simulator plants (scripts/sim: PairClass). */
export const LABEL_BASES = {
  'nightly-bulk': { en: 'nightly bulk', zh: '夜间批量' },
  'office-hours': { en: 'office-hours steady', zh: '工作时段平稳' },
  weekly: { en: 'weekly', zh: '周期性·每周' },
  sporadic: { en: 'sporadic', zh: '零星突发' },
  'realtime-steady': { en: 'real-time steady', zh: '全天实时' },
  mixed: { en: 'mixed', zh: '混合' },
} as const;
export type LabelBase = keyof typeof LABEL_BASES;

/** A cluster's representative features: medians of the members' scalars, means of their profiles. */
export interface ClusterProfile {
  size: number;
  logVolume: number;
  dispersion: number;
  burstiness: number;
  activeFraction: number;
  acfDay: number;
  acfWeek: number;
  nightShare: number;
  officeShare: number;
  restWorkRatio: number;
  weeklyPeakShare: number;
  dailyEntropy: number;
  /** Median records per batch of the members that know it; null when none does. */
  batchSize: number | null;
  /** Mean of the members' daily profiles (24 shares) and weekly profiles (7 shares, Monday first). */
  dailyProfile: number[];
  weeklyProfile: number[];
  /** argmax of the mean daily profile (local hour) and of the mean weekly profile (0 Monday .. 6 Sunday). */
  peakHour: number;
  peakWeekday: number;
}

export interface ClusterLabel {
  base: LabelBase;
  /** The readable label, with a suffix when another cluster has the same base: "nightly bulk (peak 02:00)". */
  en: string;
  zh: string;
  /** The rule that gave the base, with the profile's values it tested. */
  rule: string;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function meanProfile(rows: readonly (readonly number[])[], len: number): number[] {
  const out = new Array<number>(len).fill(0);
  for (const r of rows) for (let i = 0; i < len; i++) out[i]! += (r[i] ?? 0) / rows.length;
  return out;
}

/** The profile of a cluster of pairs (at least one member). */
export function clusterProfile(members: readonly TrafficFeatures[]): ClusterProfile {
  const med = (f: (x: TrafficFeatures) => number) => median(members.map(f));
  const batch = members.map((m) => m.batchSize).filter((b): b is number => b !== null);
  const dailyProfile = meanProfile(
    members.map((m) => m.dailyProfile),
    24,
  );
  const weeklyProfile = meanProfile(
    members.map((m) => m.weeklyProfile),
    7,
  );
  return {
    size: members.length,
    logVolume: med((m) => m.logVolume),
    dispersion: med((m) => m.dispersion),
    burstiness: med((m) => m.burstiness),
    activeFraction: med((m) => m.activeFraction),
    acfDay: med((m) => m.acfDay),
    acfWeek: med((m) => m.acfWeek),
    nightShare: med((m) => m.nightShare),
    officeShare: med((m) => m.officeShare),
    restWorkRatio: med((m) => m.restWorkRatio),
    weeklyPeakShare: med((m) => m.weeklyPeakShare),
    dailyEntropy: med((m) => m.dailyEntropy),
    batchSize: batch.length > 0 ? median(batch) : null,
    dailyProfile,
    weeklyProfile,
    peakHour: argmax(dailyProfile),
    peakWeekday: argmax(weeklyProfile),
  };
}

const f2 = (v: number) => v.toFixed(2);

/**
 * The base label, first rule that holds (thresholds on the profile; shares as TrafficFeatures defines them):
 * 1. weekly: weeklyPeakShare ≥ 0.4 (one weekday carries ≥ 40 % of the week; flat is 1/7, five equal working
 *    days 0.2) and acfWeek ≥ acfDay + 0.2 (the pattern repeats weekly, not daily);
 * 2. nightly bulk: nightShare ≥ 0.5 (most records move 20:00–06:00) and acfDay ≥ 0.3 (night after night);
 * 3. sporadic: max(acfDay, acfWeek) < 0.45 (the traffic does not repeat daily or weekly) and either
 *    dispersion ≥ 0.12 (noise beyond Poisson with negative-binomial k ≤ 8) or activeFraction < 0.3 (rare bursts);
 *    the periodicity bound keeps a noisy but regular office flow (k ≈ 5–13, acfDay ≈ 0.55) out;
 * 4. real-time steady: activeFraction ≥ 0.9, dailyEntropy ≥ 0.85 and restWorkRatio ≥ 0.4 (traffic in nearly
 *    every bucket, spread over the whole day, rest days not far below working days);
 * 5. office-hours steady: officeShare ≥ 0.5 (most records on working days 08:00–19:00);
 * 6. otherwise mixed.
 */
export function baseLabel(p: ClusterProfile): { base: LabelBase; rule: string } {
  if (p.weeklyPeakShare >= 0.4 && p.acfWeek >= p.acfDay + 0.2)
    return {
      base: 'weekly',
      rule: `weeklyPeakShare ${f2(p.weeklyPeakShare)} >= 0.40 and acfWeek ${f2(p.acfWeek)} >= acfDay ${f2(p.acfDay)} + 0.20`,
    };
  if (p.nightShare >= 0.5 && p.acfDay >= 0.3)
    return { base: 'nightly-bulk', rule: `nightShare ${f2(p.nightShare)} >= 0.50 and acfDay ${f2(p.acfDay)} >= 0.30` };
  const periodicity = Math.max(p.acfDay, p.acfWeek);
  if (periodicity < 0.45 && (p.dispersion >= 0.12 || p.activeFraction < 0.3))
    return {
      base: 'sporadic',
      rule:
        `max(acfDay, acfWeek) ${f2(periodicity)} < 0.45 and ` +
        (p.dispersion >= 0.12
          ? `dispersion ${f2(p.dispersion)} >= 0.12`
          : `activeFraction ${f2(p.activeFraction)} < 0.30`),
    };
  if (p.activeFraction >= 0.9 && p.dailyEntropy >= 0.85 && p.restWorkRatio >= 0.4)
    return {
      base: 'realtime-steady',
      rule: `activeFraction ${f2(p.activeFraction)} >= 0.90, dailyEntropy ${f2(p.dailyEntropy)} >= 0.85, restWorkRatio ${f2(p.restWorkRatio)} >= 0.40`,
    };
  if (p.officeShare >= 0.5) return { base: 'office-hours', rule: `officeShare ${f2(p.officeShare)} >= 0.50` };
  return { base: 'mixed', rule: 'no rule of weekly, nightly bulk, sporadic, real-time steady or office hours holds' };
}

const WEEKDAYS = {
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
  zh: ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
};
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

type Suffix = { en: string; zh: string };

/** Volume ranks within a group of clusters sharing a base: high/low, high/medium/low, else ranks. */
function volumeSuffixes(group: readonly ClusterProfile[]): Suffix[] {
  const order = group.map((p, i) => ({ v: p.logVolume, i })).sort((a, b) => b.v - a.v || a.i - b.i);
  const names: Suffix[] =
    group.length === 2
      ? [
          { en: 'high volume', zh: '大流量' },
          { en: 'low volume', zh: '小流量' },
        ]
      : group.length === 3
        ? [
            { en: 'high volume', zh: '大流量' },
            { en: 'medium volume', zh: '中流量' },
            { en: 'low volume', zh: '小流量' },
          ]
        : group.map((_, r) => ({ en: `volume rank ${r + 1}`, zh: `流量第${r + 1}` }));
  const out = new Array<Suffix>(group.length);
  order.forEach((o, rank) => (out[o.i] = names[rank]!));
  return out;
}

/**
 * Labels of all clusters of one clustering. Clusters sharing a base are told apart by the first of these that
 * differs between all of them: the peak weekday (weekly only), the peak hour, the volume rank.
 */
export function labelClusters(profiles: readonly ClusterProfile[]): ClusterLabel[] {
  const bases = profiles.map(baseLabel);
  const labels: ClusterLabel[] = bases.map((b) => ({ base: b.base, ...LABEL_BASES[b.base], rule: b.rule }));
  const groups = new Map<LabelBase, number[]>();
  bases.forEach((b, i) => groups.set(b.base, [...(groups.get(b.base) ?? []), i]));
  for (const [base, idx] of groups) {
    if (idx.length < 2) continue;
    const group = idx.map((i) => profiles[i]!);
    const candidates: Suffix[][] = [];
    if (base === 'weekly')
      candidates.push(group.map((p) => ({ en: WEEKDAYS.en[p.peakWeekday]!, zh: WEEKDAYS.zh[p.peakWeekday]! })));
    candidates.push(group.map((p) => ({ en: `peak ${hh(p.peakHour)}`, zh: `高峰${hh(p.peakHour)}` })));
    candidates.push(volumeSuffixes(group));
    const distinct = candidates.find((c) => new Set(c.map((s) => s.en)).size === c.length) ?? candidates.at(-1)!;
    idx.forEach((i, g) => {
      const base = LABEL_BASES[labels[i]!.base];
      labels[i] = { ...labels[i]!, en: `${base.en} (${distinct[g]!.en})`, zh: `${base.zh}（${distinct[g]!.zh}）` };
    });
  }
  return labels;
}
