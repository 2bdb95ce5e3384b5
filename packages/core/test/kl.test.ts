import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { K3_CLAMP, klEstimate } from "../src/index.ts"

const logp = fc.double({ min: -30, max: 0, noNaN: true })

describe("klEstimate", () => {
  test("hand-computed values", () => {
    expect(klEstimate(-1, -2, "k1")).toBe(1)
    expect(klEstimate(-1, -2, "k2")).toBe(0.5)
    expect(klEstimate(-1, -2, "k3")).toBeCloseTo(Math.exp(-1) - 1 + 1, 12)
    expect(klEstimate(0, -100, "k3")).toBe(K3_CLAMP)
  })

  test("law: k3 >= 0 and k2 >= 0 for any pair of log-probs", () => {
    fc.assert(
      fc.property(logp, logp, (a, b) => {
        expect(klEstimate(a, b, "k3")).toBeGreaterThanOrEqual(0)
        expect(klEstimate(a, b, "k2")).toBeGreaterThanOrEqual(0)
      }),
    )
  })

  test("law: every estimator is 0 when the policies agree", () => {
    fc.assert(
      fc.property(logp, fc.constantFrom("k1" as const, "k2" as const, "k3" as const), (a, k) => {
        expect(Math.abs(klEstimate(a, a, k))).toBe(0)
      }),
    )
  })

  test("law: k3 is clamped to at most 10 and finite for extreme inputs", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 0, noNaN: true }), fc.double({ min: -1e9, max: 0, noNaN: true }), (a, b) => {
        const k = klEstimate(a, b, "k3")
        expect(Number.isFinite(k)).toBe(true)
        expect(k).toBeLessThanOrEqual(K3_CLAMP)
      }),
    )
  })
})
