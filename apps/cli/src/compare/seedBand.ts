import { meanInterval } from "@icrl/core"
import type { BandPoint } from "./svg.ts"

/** A curve of one seed: points sorted by x or not; non-finite points are ignored. */
export type Curve = ReadonlyArray<readonly [x: number, y: number]>

const clean = (curve: Curve): Array<readonly [number, number]> => {
  const sorted = curve.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0])
  // Keep the last value of a repeated x.
  const out: Array<readonly [number, number]> = []
  for (const p of sorted) {
    if (out.length > 0 && out[out.length - 1]![0] === p[0]) out[out.length - 1] = p
    else out.push(p)
  }
  return out
}

/**
 * The value of a piecewise-linear curve at x (curve sorted by x, x inside its range).
 *
 * @example
 * interpolate([[0, 0], [10, 1]], 5) // 0.5
 */
export const interpolate = (curve: ReadonlyArray<readonly [number, number]>, x: number): number => {
  if (curve.length === 0) return Number.NaN
  let lo = 0
  let hi = curve.length - 1
  if (x <= curve[0]![0]) return curve[0]![1]
  if (x >= curve[hi]![0]) return curve[hi]![1]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (curve[mid]![0] <= x) lo = mid
    else hi = mid
  }
  const [x0, y0] = curve[lo]!
  const [x1, y1] = curve[hi]!
  return x1 === x0 ? y1 : y0 + ((x - x0) / (x1 - x0)) * (y1 - y0)
}

/**
 * The mean and 95% Student-t band of several seeds' curves. Curves are put on a common grid: the
 * union of their x values, limited to the range every curve covers, with linear interpolation
 * between a curve's own points (when all seeds evaluate at the same steps, nothing is
 * interpolated). With one curve the band has zero width.
 *
 * @example
 * seedBand([[[0, 0.4], [10, 0.5]], [[0, 0.5], [10, 0.7]]])
 * // [{ x: 0, mean: 0.45, low: ..., high: ... }, { x: 10, mean: 0.6, ... }]
 */
export const seedBand = (curves: ReadonlyArray<Curve>): Array<BandPoint> => {
  const cleaned = curves.map(clean).filter((c) => c.length > 0)
  if (cleaned.length === 0) return []
  const from = Math.max(...cleaned.map((c) => c[0]![0]))
  const to = Math.min(...cleaned.map((c) => c[c.length - 1]![0]))
  if (from > to) return []
  const grid = [...new Set(cleaned.flatMap((c) => c.map(([x]) => x)).filter((x) => x >= from && x <= to))].sort((a, b) => a - b)
  return grid.map((x) => {
    const interval = meanInterval(cleaned.map((c) => interpolate(c, x)))
    return { x, mean: interval.mean, low: interval.low, high: interval.high }
  })
}
