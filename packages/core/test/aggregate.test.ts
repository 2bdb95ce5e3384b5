import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { aggregateLoss, aggregationWeights, type LossAggMode } from "../src/index.ts"

const modes: ReadonlyArray<LossAggMode> = ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"]
const val = fc.double({ min: -10, max: 10, noNaN: true })
const ragged = fc.array(fc.array(val, { maxLength: 12 }), { maxLength: 8 })

describe("aggregateLoss", () => {
  test("hand-computed values", () => {
    const l = [[1, 1], [4]]
    expect(aggregateLoss(l, "token-mean")).toBe(2)
    expect(aggregateLoss(l, "seq-mean-token-mean")).toBe(2.5)
    expect(aggregateLoss(l, "seq-mean-token-sum")).toBe(3)
    expect(aggregateLoss(l, "seq-mean-token-sum-norm")).toBe(1.5)
    expect(aggregateLoss(l, "seq-mean-token-sum-norm", 3)).toBe(1)
  })

  test("law: on equal-length sequences token-mean = seq-mean-token-mean = seq-mean-token-sum-norm, and seq-mean-token-sum = L x token-mean", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 6 }), fc.array(val, { minLength: 60, maxLength: 60 }), (len, n, pool) => {
        const l = Array.from({ length: n }, (_, i) => pool.slice(i * len, i * len + len).concat(new Array(Math.max(0, len - pool.slice(i * len).length)).fill(0)).slice(0, len))
        const tm = aggregateLoss(l, "token-mean")
        expect(aggregateLoss(l, "seq-mean-token-mean")).toBeCloseTo(tm, 9)
        expect(aggregateLoss(l, "seq-mean-token-sum-norm")).toBeCloseTo(tm, 9)
        expect(aggregateLoss(l, "seq-mean-token-sum")).toBeCloseTo(tm * len, 8)
      }),
    )
  })

  test("law: zero-length sequences and empty batches give finite results and are ignored", () => {
    fc.assert(
      fc.property(ragged, fc.constantFrom(...modes), (l, mode) => {
        const a = aggregateLoss(l, mode)
        expect(Number.isFinite(a)).toBe(true)
        expect(aggregateLoss([...l, [], []], mode)).toBeCloseTo(a, 12)
      }),
    )
    for (const m of modes) expect(aggregateLoss([], m)).toBe(0)
  })

  test("law: the token weights reproduce the aggregate (tensor form agrees with the reference)", () => {
    fc.assert(
      fc.property(ragged, fc.constantFrom(...modes), (l, mode) => {
        const weights = aggregationWeights(l.map((s) => s.length), mode)
        let sum = 0
        l.forEach((s, i) => s.forEach((x, t) => (sum += x * weights[i]![t]!)))
        expect(sum).toBeCloseTo(aggregateLoss(l, mode), 9)
      }),
    )
  })

  test("hand-computed per-role sums", () => {
    expect(aggregateLoss([[1, 1], [4]], "token-mean", 0, ["solver", "critic"])).toBe(5)
    expect(aggregationWeights([2, 1, 1], "token-mean", 0, ["solver", "critic", "solver"])).toEqual([[1 / 3, 1 / 3], [1], [1 / 3]])
  })

  test("law: per-role-sum is the sum of each role's own aggregate, and its weights reproduce it", () => {
    fc.assert(
      fc.property(ragged, fc.constantFrom(...modes), fc.array(fc.constantFrom("solver", "critic", "refiner"), { minLength: 8, maxLength: 8 }), (l, mode, labels) => {
        const groups = l.map((_, i) => labels[i]!)
        const expected = ["solver", "critic", "refiner"].reduce((a, role) => a + aggregateLoss(l.filter((_, i) => groups[i] === role), mode), 0)
        expect(aggregateLoss(l, mode, 0, groups)).toBeCloseTo(expected, 9)
        const weights = aggregationWeights(l.map((s) => s.length), mode, 0, groups)
        let sum = 0
        l.forEach((s, i) => s.forEach((x, t) => (sum += x * weights[i]![t]!)))
        expect(sum).toBeCloseTo(expected, 9)
      }),
    )
  })

  test("law: under per-role-sum a role's token weights do not depend on how many tokens the other roles add", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 6 }), fc.constantFrom(...modes), (solver, critic, mode) => {
        const alone = aggregationWeights(solver, mode, 0, solver.map(() => "solver"))
        const mixed = aggregationWeights([...solver, ...critic], mode, 0, [...solver.map(() => "solver"), ...critic.map(() => "critic")])
        expect(mixed.slice(0, solver.length)).toEqual(alone)
      }),
    )
  })

  test("law: with one role only, per-role-sum equals pooled", () => {
    fc.assert(
      fc.property(ragged, fc.constantFrom(...modes), (l, mode) => {
        // Equal as numbers: a pooled -0 (subnormal losses) comes back as 0 + -0 = 0 from the role sum.
        expect(aggregateLoss(l, mode, 0, l.map(() => "solver")) === aggregateLoss(l, mode)).toBe(true)
      }),
      { examples: [[[[-2.5e-323, 4.4e-323, -2.5e-323]], "token-mean"]] },
    )
  })
})
