import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { groupIndices, roleWiseAdvantages, type Role, type TaggedReward } from "../src/index.ts"

const item = fc.record({
  taskId: fc.constantFrom("a", "b", "c"),
  round: fc.constantFrom(1, 2, 3),
  role: fc.constantFrom<Role>("solver", "critic", "refiner"),
  reward: fc.double({ min: -5, max: 5, noNaN: true }),
})
const tagged = (taskId: string, round: number, role: Role, reward: number): TaggedReward => ({ taskId, round, role, reward })
const options = { estimator: "grpo" as const, epsilon: 1e-6, rolewise: true, key: "task-round-role" as const }

describe("roleWiseAdvantages", () => {
  test("hand-computed: roles of one task are normalized separately", () => {
    const items: Array<TaggedReward> = [
      tagged("a", 1, "solver", 1),
      tagged("a", 1, "solver", 0),
      tagged("a", 1, "critic", 5),
      tagged("a", 1, "critic", 3),
      tagged("b", 1, "solver", 7),
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

  test("law: each group has zero-mean advantages, under either group key", () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), fc.constantFrom("task-round-role" as const, "task-role" as const), (items, key) => {
        const adv = roleWiseAdvantages(items, { ...options, key })
        const sums = new Map<string, number>()
        const keyOf = (it: TaggedReward) => (key === "task-round-role" ? `${it.taskId}/${it.round}/${it.role}` : `${it.taskId}/${it.role}`)
        items.forEach((it, i) => sums.set(keyOf(it), (sums.get(keyOf(it)) ?? 0) + adv[i]!))
        for (const s of sums.values()) expect(Math.abs(s)).toBeLessThan(1e-6)
      }),
    )
  })

  test("law: under task-round-role, changing round-2 rewards never changes round-1 advantages", () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), fc.double({ min: -10, max: 10, noNaN: true }), (items, delta) => {
        const before = roleWiseAdvantages(items, options)
        const after = roleWiseAdvantages(items.map((it) => (it.round === 2 ? { ...it, reward: it.reward + delta } : it)), options)
        items.forEach((it, i) => {
          if (it.round !== 2) expect(after[i]).toBe(before[i]!)
        })
      }),
    )
  })

  test("task-role puts every round of a task's solver samples in one group (refinements mixed with attempts)", () => {
    const items: Array<TaggedReward> = [
      tagged("a", 1, "solver", 0),
      tagged("a", 1, "solver", 0),
      tagged("a", 2, "solver", 1),
      tagged("a", 2, "solver", 1),
    ]
    const mo = { ...options, estimator: "mean-only" as const }
    expect(roleWiseAdvantages(items, { ...mo, key: "task-role" })).toEqual([-0.5, -0.5, 0.5, 0.5])
    expect(roleWiseAdvantages(items, mo)).toEqual([0, 0, 0, 0])
    expect(roleWiseAdvantages(items, { ...mo, pseudoReward: 1 })).toEqual([-1 / 3, -1 / 3, 0, 0])
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

describe("groupIndices", () => {
  test("law: the groups partition the indices, in order of first appearance, each holding one label", () => {
    expect(groupIndices(["a", "b", "a"])).toEqual([[0, 2], [1]])
    expect(groupIndices([])).toEqual([])
    fc.assert(
      fc.property(fc.array(fc.constantFrom("x", "y", "z"), { maxLength: 20 }), (labels) => {
        const groups = groupIndices(labels)
        expect(groups.flat().sort((p, q) => p - q)).toEqual(labels.map((_, i) => i))
        for (const members of groups) for (const i of members) expect(labels[i]).toBe(labels[members[0]!]!)
        expect(groups.map((m) => m[0]!)).toEqual([...groups.map((m) => m[0]!)].sort((p, q) => p - q))
      }),
    )
  })
})
