import { mean, sampleStd } from "./advantages.ts"

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
]

/** The t quantile for a 95% two-sided interval with `df` degrees of freedom (1.96 beyond 120). */
export const tQuantile95 = (df: number): number => {
  if (df < 1) return Number.POSITIVE_INFINITY
  if (df <= 30) return T975[Math.floor(df) - 1]!
  if (df <= 60) return 2.0
  if (df <= 120) return 1.98
  return 1.96
}

/**
 * The median of a sample (the mean of the two middle values for an even count; NaN when empty).
 *
 * @example
 * median([3, 1, 2, 10]) // 2.5
 */
export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export interface Interval {
  readonly mean: number
  /** Half-width of the 95% interval; 0 when there are fewer than two values (no interval). */
  readonly halfWidth: number
  readonly low: number
  readonly high: number
  readonly n: number
}

/**
 * Mean and 95% confidence interval (Student's t) of a sample, e.g. one metric over seeds.
 *
 * @example
 * meanInterval([1, 2, 3]) // { mean: 2, halfWidth: 2.484, ... }
 */
export const meanInterval = (values: ReadonlyArray<number>): Interval => {
  const m = mean(values)
  const halfWidth = values.length < 2 ? 0 : (tQuantile95(values.length - 1) * sampleStd(values)) / Math.sqrt(values.length)
  return { mean: m, halfWidth, low: m - halfWidth, high: m + halfWidth, n: values.length }
}

/**
 * Wilson score 95% interval of a proportion (an accuracy over n held-out tasks).
 * `mean` is the observed proportion; the bounds lie in [0, 1] and are asymmetric near 0 and 1.
 *
 * @example
 * proportionInterval(45, 100) // { mean: 0.45, low: 0.356, high: 0.548, ... }
 */
export const proportionInterval = (successes: number, n: number): Interval => {
  if (n <= 0) return { mean: 0, halfWidth: 0, low: 0, high: 0, n: 0 }
  const z = 1.959964
  const p = successes / n
  const denom = 1 + (z * z) / n
  const centre = (p + (z * z) / (2 * n)) / denom
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom
  const low = Math.max(0, centre - half)
  const high = Math.min(1, centre + half)
  return { mean: p, halfWidth: (high - low) / 2, low, high, n }
}
