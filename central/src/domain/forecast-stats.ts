// Small statistics for forecasts and surge detection, pure: the normal quantile and the upper tail of a
// negative-binomial count (the noise model of a bucket: variance μ + φμ²).

/**
 * Quantile of the standard normal at probability p in (0, 1): Acklam's rational approximation (relative
 * error < 1.2e-9). Throws RangeError outside (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('p must be in (0, 1)');
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const poly = (k: number[], x: number): number => k.reduce((acc, v) => acc * x + v, 0);
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** Upper tail of the standard normal, P(Z ≥ z) (Abramowitz–Stegun 7.1.26 on erfc, error < 1.5e-7). */
export function normalUpperTail(z: number): number {
  if (z < 0) return 1 - normalUpperTail(-z);
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp(-x * x);
}

/**
 * P(Y ≥ y) for a negative-binomial count with mean μ and dispersion φ (variance μ + φμ²; φ = 0 is Poisson).
 * Exact by the pmf recursion while the sum is short (y ≤ 5 000); beyond, the gamma of the same mean and
 * variance through the Wilson–Hilferty cube root (continuity-corrected), which keeps the right skew a normal
 * tail would lose. Used for surge decisions, where the normal tail would understate small counts.
 */
export function nbUpperTail(y: number, mu: number, phi: number): number {
  if (y <= 0) return 1;
  if (!(mu > 0)) return 0;
  if (y > 5000) return gammaUpperTail(y - 0.5, mu, mu + phi * mu * mu);
  let p: number;
  let ratio: (k: number) => number;
  if (phi <= 1e-9) {
    p = Math.exp(-mu);
    ratio = (k) => mu / (k + 1);
  } else {
    const r = 1 / phi;
    const q = mu / (r + mu);
    p = Math.exp(r * Math.log(r / (r + mu)));
    ratio = (k) => ((k + r) / (k + 1)) * q;
  }
  if (p === 0) return gammaUpperTail(y - 0.5, mu, mu + phi * mu * mu);
  let cdf = 0;
  for (let k = 0; k < y; k++) {
    cdf += p;
    p *= ratio(k);
  }
  return Math.max(0, 1 - cdf);
}

/** P(X ≥ x) for a gamma of the given mean and variance, by Wilson and Hilferty (1931). */
function gammaUpperTail(x: number, mean: number, variance: number): number {
  const shape = (mean * mean) / variance;
  const h = 1 / (9 * shape);
  return normalUpperTail((Math.cbrt(x / mean) - (1 - h)) / Math.sqrt(h));
}
