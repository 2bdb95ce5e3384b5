import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { passAtK } from "../src/index.ts"

const nck = fc.integer({ min: 1, max: 60 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.integer({ min: 1, max: n })))

describe("passAtK", () => {
  test("hand-computed values", () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12)
    expect(passAtK(4, 1, 2)).toBeCloseTo(1 - 3 / 6, 12) // 1 - C(3,2)/C(4,2)
    expect(passAtK(5, 2, 4)).toBe(1)
  })

  test("law: pass@k is 1 when all n samples are correct and 0 when none are", () => {
    fc.assert(
      fc.property(nck, ([n, , k]) => {
        expect(passAtK(n, n, k)).toBe(1)
        expect(passAtK(n, 0, k)).toBe(0)
      }),
    )
  })

  test("law: pass@k is monotone non-decreasing in k and in c, within [0, 1]", () => {
    fc.assert(
      fc.property(nck, ([n, c, k]) => {
        const p = passAtK(n, c, k)
        expect(p).toBeGreaterThanOrEqual(0)
        expect(p).toBeLessThanOrEqual(1)
        if (k < n) expect(passAtK(n, c, k + 1)).toBeGreaterThanOrEqual(p - 1e-12)
        if (c < n) expect(passAtK(n, c + 1, k)).toBeGreaterThanOrEqual(p - 1e-12)
      }),
    )
  })

  test("law: pass@1 is the fraction correct", () => {
    fc.assert(fc.property(nck, ([n, c]) => expect(passAtK(n, c, 1)).toBeCloseTo(c / n, 12)))
  })
})
