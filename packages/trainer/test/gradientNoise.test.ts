import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { gradientAgreement } from "../src/index.ts"

// Multiples of 0.01 in [-10, 10]: no subnormals, whose products underflow.
const vec = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 3, maxLength: 3 }).map((xs) => new Float64Array(xs.map((x) => x / 100)))

describe("gradientAgreement", () => {
  test("cosines lie in [-1, 1], are symmetric in scale, and a vector agrees fully with itself", () => {
    fc.assert(
      fc.property(vec, vec, fc.double({ min: 0.01, max: 100, noNaN: true }), (a, b, s) => {
        const { cosines, gradNorms } = gradientAgreement([a, b])
        expect(cosines).toHaveLength(1)
        expect(Math.abs(cosines[0]!)).toBeLessThanOrEqual(1 + 1e-12)
        const scaled = gradientAgreement([a, b.map((x) => x * s)])
        expect(scaled.cosines[0]!).toBeCloseTo(cosines[0]!, 9)
        expect(gradNorms[0]!).toBeCloseTo(Math.hypot(...a), 9)
        if (gradNorms[0]! > 1e-6) expect(gradientAgreement([a, a]).cosines[0]!).toBeCloseTo(1, 9)
        if (gradNorms[0]! > 1e-6) expect(gradientAgreement([a, a.map((x) => -x)]).cosines[0]!).toBeCloseTo(-1, 9)
      }),
    )
  })

  test("pairs in row-major order, median of the pairs; zero vectors give 0, never NaN", () => {
    const r = gradientAgreement([new Float64Array([1, 0]), new Float64Array([0, 1]), new Float64Array([1, 1]), new Float64Array([0, 0])])
    expect(r.cosines.map((c) => Number(c.toFixed(6)))).toEqual([0, 0.707107, 0, 0.707107, 0, 0])
    expect(r.medianCosine).toBe(0)
    expect(r.gradNorms[3]).toBe(0)
    expect(() => gradientAgreement([new Float64Array(2), new Float64Array(3)])).toThrow(/differ in length/)
  })
})
