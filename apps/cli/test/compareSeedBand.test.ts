import { meanInterval } from "@icrl/core"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { interpolate, seedBand } from "../src/compare/seedBand.ts"

const curveArb = (xs: ReadonlyArray<number>) => fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: xs.length, maxLength: xs.length }).map((ys) => xs.map((x, i) => [x, ys[i]!] as const))

describe("interpolate", () => {
  test("passes through the curve's own points and is linear between them", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 10 }).chain((xs) => curveArb([...xs].sort((a, b) => a - b))), (curve) => {
        for (const [x, y] of curve) expect(interpolate(curve, x)).toBeCloseTo(y, 12)
        for (let i = 1; i < curve.length; i++) {
          const [x0, y0] = curve[i - 1]!
          const [x1, y1] = curve[i]!
          const mid = interpolate(curve, (x0 + x1) / 2)
          expect(mid).toBeCloseTo((y0 + y1) / 2, 9)
        }
      }),
    )
  })

  test("clamps outside the curve", () => {
    expect(interpolate([[0, 1], [10, 3]], -5)).toBe(1)
    expect(interpolate([[0, 1], [10, 3]], 50)).toBe(3)
    expect(Number.isNaN(interpolate([], 1))).toBe(true)
  })
})

describe("seedBand", () => {
  test("identical seeds give the curve itself with a zero-width band", () => {
    fc.assert(
      fc.property(curveArb([0, 5, 10, 15]), fc.integer({ min: 1, max: 5 }), (curve, n) => {
        const band = seedBand(Array.from({ length: n }, () => curve))
        expect(band.map((p) => p.x)).toEqual([0, 5, 10, 15])
        band.forEach((p, i) => {
          expect(p.mean).toBeCloseTo(curve[i]![1], 12)
          expect(p.high - p.low).toBeCloseTo(0, 12)
        })
      }),
    )
  })

  test("on shared evaluation steps the band is the Student-t interval of the seeds' values", () => {
    fc.assert(
      fc.property(fc.array(curveArb([0, 10, 20]), { minLength: 2, maxLength: 6 }), (curves) => {
        const band = seedBand(curves)
        expect(band.length).toBe(3)
        band.forEach((p, i) => {
          const expected = meanInterval(curves.map((c) => c[i]![1]))
          expect(p.mean).toBeCloseTo(expected.mean, 12)
          expect(p.low).toBeCloseTo(expected.low, 12)
          expect(p.high).toBeCloseTo(expected.high, 12)
          expect(p.low).toBeLessThanOrEqual(p.mean + 1e-12)
          expect(p.high).toBeGreaterThanOrEqual(p.mean - 1e-12)
        })
      }),
    )
  })

  test("the mean lies between the smallest and largest seed value at every grid point", () => {
    const xsArb = fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }).map((xs) => [...xs].sort((a, b) => a - b))
    fc.assert(
      fc.property(fc.array(xsArb.chain(curveArb), { minLength: 1, maxLength: 4 }), (curves) => {
        for (const p of seedBand(curves)) {
          const values = curves.map((c) => interpolate(c, p.x))
          expect(p.mean).toBeGreaterThanOrEqual(Math.min(...values) - 1e-12)
          expect(p.mean).toBeLessThanOrEqual(Math.max(...values) + 1e-12)
        }
      }),
    )
  })

  test("seeds on different x grids are interpolated onto the union, within the range all cover", () => {
    const band = seedBand([
      [[0, 0], [10, 1], [12, 1]],
      [[0, 0], [4, 0.4], [9, 0.9]],
    ])
    expect(band.map((p) => p.x)).toEqual([0, 4, 9])
    expect(band.map((p) => p.mean)).toEqual([0, 0.4, 0.9])
  })

  test("non-finite values are ignored; nothing overlapping gives no band", () => {
    expect(seedBand([[[0, 0.5], [5, Number.NaN], [10, 0.7]]]).map((p) => p.x)).toEqual([0, 10])
    expect(seedBand([[[0, 0.5]], [[5, 0.6]]])).toEqual([])
    expect(seedBand([])).toEqual([])
  })
})
