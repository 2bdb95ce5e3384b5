import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { roleWiseAdvantages, type Role, type TaggedReward } from "../src/index.ts"

const item = fc.record({
  taskId: fc.constantFrom("a", "b", "c"),
  role: fc.constantFrom<Role>("solver", "critic", "refiner"),
  reward: fc.double({ min: -5, max: 5, noNaN: true }),
})
const options = { estimator: "grpo" as const, epsilon: 1e-6, rolewise: true }

describe("roleWiseAdvantages", () => {
  test("hand-computed: roles of one task are normalized separately", () => {
    const items: Array<TaggedReward> = [
      { taskId: "a", role: "solver", reward: 1 },
      { taskId: "a", role: "solver", reward: 0 },
      { taskId: "a", role: "critic", reward: 5 },
      { taskId: "a", role: "critic", reward: 3 },
      { taskId: "b", role: "solver", reward: 7 },
    ]
    expect(roleWiseAdvantages(items, { ...options, estimator: "mean-only" })).toEqual([0.5, -0.5, 1, -1, 0])
    // pooled: task a's four rewards form one group (mean 2.25)
    expect(roleWiseAdvantages(items, { ...options, estimator: "mean-only", rolewise: false })).toEqual([-1.25, -2.25, 2.75, 0.75, 0])
  })

  test("law: changing critic rewards never changes solver advantages (role separation)", () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), fc.double({ min: -10, max: 10, noNaN: true }), (items, delta) => {
        const before = roleWiseAdvantages(items, options)
        const changed = items.map((it) => (it.role === "critic" ? { ...it, reward: it.reward + delta * (it.reward + 1) } : it))
        const after = roleWiseAdvantages(changed, options)
        items.forEach((it, i) => {
          if (it.role !== "critic") expect(after[i]).toBe(before[i]!)
        })
      }),
    )
  })

  test("law: each (task, role) group has zero-mean advantages", () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), (items) => {
        const adv = roleWiseAdvantages(items, options)
        const sums = new Map<string, number>()
        items.forEach((it, i) => sums.set(`${it.taskId}/${it.role}`, (sums.get(`${it.taskId}/${it.role}`) ?? 0) + adv[i]!))
        for (const s of sums.values()) expect(Math.abs(s)).toBeLessThan(1e-6)
      }),
    )
  })

  test("law: output order follows input order (interleaving groups changes nothing)", () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), (items) => {
        const adv = roleWiseAdvantages(items, options)
        const reversed = roleWiseAdvantages([...items].reverse(), options).reverse()
        adv.forEach((a, i) => expect(reversed[i]!).toBeCloseTo(a, 9))
      }),
    )
  })
})
