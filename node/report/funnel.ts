/**
 * Funnel-plot control limits for a proportion (Spiegelhalter, "Funnel plots for comparing
 * institutional performance", Statistics in Medicine 24:1185-1202, 2005, section 3.1.1 and
 * appendix A.1.1): for a target rate θ0 and a population n, the limit of coverage p is the
 * exact binomial p-quantile of Binomial(n, θ0) with Spiegelhalter's interpolation between the
 * integer quantiles, divided by n:
 *
 *   r_p = the smallest r with P(R <= r) >= p,
 *   α   = (P(R <= r_p) - p) / (P(R <= r_p) - P(R <= r_p - 1)),
 *   y_p = (r_p - α) / n,  clamped to [0, 1].
 *
 * Exact at every n (no normal approximation); the binomial probabilities are summed in log
 * space so large n does not underflow. The 95 % limits use p = 0.025 / 0.975, the 99.8 %
 * limits p = 0.001 / 0.999.
 */
import { getAt } from '../../shared/arrays/checked-index.js';

/** Coverage levels of the funnel: 95 % ("opvallend") and 99,8 % ("zeer opvallend"). */
export const FUNNEL_LEVELS = [
  { id: '95', coverage: 0.95, lower: 0.025, upper: 0.975 },
  { id: '99.8', coverage: 0.998, lower: 0.001, upper: 0.999 },
] as const;

/** Cumulative distribution P(R <= r), r = 0..n, of Binomial(n, theta), 0 < theta < 1. */
export function binomialCdf(n: number, theta: number): Float64Array {
  const logPmf = new Float64Array(n + 1);
  const lq = Math.log1p(-theta);
  const odds = Math.log(theta) - lq;
  let prev = n * lq;
  logPmf[0] = prev;
  let max = prev;
  for (let k = 0; k < n; k++) {
    const v = prev + Math.log(n - k) - Math.log(k + 1) + odds;
    logPmf[k + 1] = v;
    prev = v;
    if (v > max) max = v;
  }
  const cdf = new Float64Array(n + 1);
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    acc += Math.exp(getAt(logPmf, k) - max);
    cdf[k] = acc;
  }
  for (let k = 0; k <= n; k++) cdf[k] = getAt(cdf, k) / acc;
  cdf[n] = 1;
  return cdf;
}

/**
 * The funnel limit y_p for coverage quantile p (0 < p < 1) at population n around target theta
 * (Spiegelhalter 2005, A.1.1). Returns null for n < 1 or a target outside [0, 1]; theta 0 or 1
 * gives limits 0 or 1 (no variation possible).
 */
export function funnelLimit(n: number, theta: number, p: number, cdf?: Float64Array): number | null {
  if (!Number.isInteger(n) || n < 1 || !(theta >= 0 && theta <= 1)) return null;
  if (theta === 0 || theta === 1) return theta;
  const F = cdf ?? binomialCdf(n, theta);
  let r = 0;
  while (r < n && getAt(F, r) < p) r++;
  const fr = getAt(F, r);
  const fPrev = r > 0 ? getAt(F, r - 1) : 0;
  const alpha = fr - fPrev > 0 ? (fr - p) / (fr - fPrev) : 0;
  return Math.min(1, Math.max(0, (r - alpha) / n));
}

/** All four limits at one n. */
export interface FunnelLimits {
  n: number;
  lo95: number;
  hi95: number;
  lo998: number;
  hi998: number;
}

/** The 95 % and 99.8 % limits at population n around target theta; null when undefined. */
export function funnelLimits(n: number, theta: number): FunnelLimits | null {
  if (!Number.isInteger(n) || n < 1 || !(theta >= 0 && theta <= 1)) return null;
  const cdf = theta > 0 && theta < 1 ? binomialCdf(n, theta) : undefined;
  const at = (p: number): number => {
    const y = funnelLimit(n, theta, p, cdf);
    // Null only for an n or theta rejected above.
    if (y === null) throw new RangeError(`no funnel limit at n ${n}, theta ${theta}`);
    return y;
  };
  return { n, lo95: at(0.025), hi95: at(0.975), lo998: at(0.001), hi998: at(0.999) };
}

/** Where a rate falls against its limits: inside, or above/below the 95 % or the 99.8 % limit. */
export type FunnelVerdict = 'inside' | 'above95' | 'above998' | 'below95' | 'below998';

/**
 * Judge a rate against its limits. Only a rate strictly outside a limit is flagged
 * (Spiegelhalter: "alarm" beyond 99.8 %, "alert" beyond 95 %).
 */
export function funnelVerdict(rate: number, l: FunnelLimits): FunnelVerdict {
  if (rate > l.hi998) return 'above998';
  if (rate < l.lo998) return 'below998';
  if (rate > l.hi95) return 'above95';
  if (rate < l.lo95) return 'below95';
  return 'inside';
}

/**
 * Population values for drawing the funnel: about `points` values from 1 to `max`, evenly
 * spaced on a log scale, every integer included at small n (the limits jump there).
 */
export function funnelGrid(max: number, points = 48): number[] {
  const top = Math.max(2, Math.ceil(max));
  const out = new Set<number>();
  for (let n = 1; n <= Math.min(top, 20); n++) out.add(n);
  for (let i = 0; i <= points; i++) out.add(Math.max(1, Math.round(Math.exp((Math.log(top) * i) / points))));
  return [...out].sort((a, b) => a - b);
}
