import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { anchorOf, discountedReturns, groupIndices, stepAdvantages, type AdvantageEstimator, type StepTurn } from "../src/index.ts"

const estimators: ReadonlyArray<AdvantageEstimator> = ["grpo", "mean-only", "rloo"]
const turn = fc.record({ anchor: fc.constantFrom("s0", "s1", "s2", "s3"), reward: fc.double({ min: -2, max: 2, noNaN: true }) })
const group = fc.array(fc.array(turn, { maxLength: 8 }), { maxLength: 6 })
const gamma = fc.double({ min: 0.05, max: 1, noNaN: true })

/** The members of each anchor, as [episode, turn] pairs. */
const anchorGroups = (episodes: ReadonlyArray<ReadonlyArray<StepTurn>>): Array<Array<[number, number]>> => {
  const places = episodes.flatMap((turns, e) => turns.map((_, t): [number, number] => [e, t]))
  return groupIndices(episodes.flatMap((turns) => turns.map((t) => t.anchor))).map((members) => members.map((i) => places[i]!))
}

describe("discountedReturns", () => {
  test("hand-computed values; gamma 1 gives suffix sums; empty gives empty", () => {
    expect(discountedReturns([0, 0, 1], 0.5)).toEqual([0.25, 0.5, 1])
    expect(discountedReturns([1, -1, 2], 1)).toEqual([2, 1, 2])
    expect(discountedReturns([], 0.9)).toEqual([])
  })

  test("law: R_t = r_t + gamma R_(t+1), and scaling the rewards scales the returns", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { maxLength: 30 }), gamma, fc.double({ min: 0.1, max: 10, noNaN: true }), (rewards, g, c) => {
        const R = discountedReturns(rewards, g)
        rewards.forEach((r, t) => expect(R[t]!).toBeCloseTo(r + g * (R[t + 1] ?? 0), 9))
        discountedReturns(rewards.map((r) => c * r), g).forEach((x, t) => expect(x).toBeCloseTo(c * R[t]!, 6))
      }),
    )
  })
})

describe("anchorOf", () => {
  test("the observation and the admissible actions name the state; the history does not", () => {
    expect(anchorOf({ observation: "a", admissibleActions: ["x", "y"] })).toBe(anchorOf({ observation: "a", admissibleActions: ["x", "y"] }))
    expect(anchorOf({ observation: "a", admissibleActions: ["x"] })).not.toBe(anchorOf({ observation: "a", admissibleActions: ["y"] }))
    expect(anchorOf({ observation: "a" })).toBe("a")
  })
})

describe("stepAdvantages", () => {
  test("hand-computed: the first action that led to the reward is credited, states reached once get 0", () => {
    const episodes: Array<Array<StepTurn>> = [
      [{ anchor: "s", reward: 0 }, { anchor: "a", reward: 1 }],
      [{ anchor: "s", reward: 0 }, { anchor: "b", reward: 0 }],
    ]
    const got = stepAdvantages(episodes, { gamma: 0.9, estimator: "mean-only", epsilon: 1e-6 })
    expect(got[0]![0]!).toBeCloseTo(0.45, 12)
    expect(got[1]![0]!).toBeCloseTo(-0.45, 12)
    expect([got[0]![1], got[1]![1]]).toEqual([0, 0])
  })

  test("law: the same shape as the input, finite, 0 for a state reached once, empty groups and episodes allowed", () => {
    fc.assert(
      fc.property(group, gamma, fc.constantFrom(...estimators), (episodes, g, estimator) => {
        const got = stepAdvantages(episodes, { gamma: g, estimator, epsilon: 1e-6 })
        expect(got.map((a) => a.length)).toEqual(episodes.map((e) => e.length))
        for (const a of got) for (const x of a) expect(Number.isFinite(x)).toBe(true)
        for (const members of anchorGroups(episodes)) if (members.length === 1) expect(got[members[0]![0]]![members[0]![1]]).toBe(0)
      }),
    )
    expect(stepAdvantages([], { gamma: 0.9, estimator: "grpo", epsilon: 1e-6 })).toEqual([])
    expect(stepAdvantages([[], []], { gamma: 0.9, estimator: "grpo", epsilon: 1e-6 })).toEqual([[], []])
  })

  test("law: each state's step group is normalized on its own (advantages sum to 0; equal returns give 0)", () => {
    fc.assert(
      fc.property(group, gamma, fc.constantFrom(...estimators), (episodes, g, estimator) => {
        const got = stepAdvantages(episodes, { gamma: g, estimator, epsilon: 1e-6 })
        const returns = episodes.map((e) => discountedReturns(e.map((t) => t.reward), g))
        for (const members of anchorGroups(episodes)) {
          const sum = members.reduce((a, [e, t]) => a + got[e]![t]!, 0)
          expect(sum).toBeCloseTo(0, 6)
          if (members.every(([e, t]) => returns[e]![t] === returns[members[0]![0]]![members[0]![1]])) for (const [e, t] of members) expect(got[e]![t]).toBe(0)
        }
      }),
    )
  })

  test("law: grpo step advantages are invariant to scaling the rewards; mean-only ones scale with them", () => {
    fc.assert(
      fc.property(group, fc.constantFrom(0.5, 0.9, 0.95, 1), fc.double({ min: 0.1, max: 10, noNaN: true }), (drawn, g, c) => {
        // Rewards on a grid of quarters and a few discounts: return spreads far above the epsilon.
        const episodes = drawn.map((e) => e.map((t) => ({ ...t, reward: Math.round(t.reward * 4) / 4 })))
        const scaled = episodes.map((e) => e.map((t) => ({ ...t, reward: c * t.reward })))
        const base = stepAdvantages(episodes, { gamma: g, estimator: "mean-only", epsilon: 1e-6 })
        stepAdvantages(scaled, { gamma: g, estimator: "mean-only", epsilon: 1e-6 }).forEach((a, e) => a.forEach((x, t) => expect(x).toBeCloseTo(c * base[e]![t]!, 6)))
        const grpo = stepAdvantages(episodes, { gamma: g, estimator: "grpo", epsilon: 1e-12 })
        stepAdvantages(scaled, { gamma: g, estimator: "grpo", epsilon: 1e-12 }).forEach((a, e) => a.forEach((x, t) => expect(x).toBeCloseTo(grpo[e]![t]!, 6)))
      }),
    )
  })
})
