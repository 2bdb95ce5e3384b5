import { describe, expect, test } from "bun:test"
import type { Demonstration } from "@icrl/core"
import { Effect } from "effect"
import { buildWarmStart, copyDrills, corruptedShopPlan, demoStop, shop, shopCorruptions, shopCritique, shopExpertPlan, type ShopTask, type WarmStartSource } from "../src/index.ts"

const demos: Array<Demonstration> = [
  { role: "solver", prompt: "Task: Who directed the film Silent River?\nNow: (Silent River) ends.", completion: "<think>x</think><action>answer[Olga]</action>\n\n" },
  { role: "critic", prompt: "Attempt: criticword", completion: " tipword\n\n" },
  { role: "refiner", prompt: "Task: refinerword", completion: "<action>answer[y]</action>\n\n" },
]

describe("copyDrills", () => {
  test("repeat 3 to 10 words of the solver prompts, punctuation stripped, marked as drills, deterministic in the seed", () => {
    const drills = copyDrills(demos, 200, 5)
    expect(drills.length).toBe(200)
    expect(copyDrills(demos, 200, 5)).toEqual(drills)
    expect(copyDrills(demos, 200, 6)).not.toEqual(drills)
    const vocabulary = new Set(["Task", "Who", "directed", "the", "film", "Silent", "River", "Now", "ends"])
    const seen = new Set<string>()
    for (const d of drills) {
      expect(d.drill).toBe(true)
      expect(d.role).toBe("solver")
      expect(d.prompt).toStartWith("Copy: ")
      expect(d.prompt).toEndWith("\n")
      const words = d.prompt.slice("Copy: ".length, -1).split(" ")
      expect(d.completion).toBe(`${words.join(" ")}${demoStop}`)
      expect(words.length).toBeGreaterThanOrEqual(3)
      expect(words.length).toBeLessThanOrEqual(10)
      for (const w of words) {
        expect(vocabulary.has(w)).toBe(true)
        seen.add(w)
      }
    }
    expect(seen).toEqual(vocabulary)
  })

  test("no solver prompt, no drills; drills are not read as a vocabulary", () => {
    expect(copyDrills(demos.slice(1), 10, 0)).toEqual([])
    expect(copyDrills(copyDrills(demos, 5, 0), 10, 0)).toEqual([])
    expect(copyDrills(demos, 0, 0)).toEqual([])
  })
})

describe("buildWarmStart", () => {
  const source = (refineSuccesses: boolean): WarmStartSource<ShopTask> => ({
    pkg: shop,
    expertPlan: shopExpertPlan,
    corrupt: (task, rng) => corruptedShopPlan(task, rng.pick(shopCorruptions), rng),
    critique: (task, attempt) => shopCritique(task, attempt.turns.map((t) => t.action)),
    successCritiqueRate: 0.5,
    refineSuccesses,
  })
  const tasks = Effect.runSync(shop.tasks("train", { seed: 2, count: 16, options: { difficulty: "1" } }))
  const build = (refineSuccesses: boolean) => Effect.runSync(buildWarmStart(source(refineSuccesses), tasks, 2))
  const praised = (d: Demonstration) => d.role === "refiner" && d.prompt.includes("\nTip 1: Do the same again.\n")

  test("refineSuccesses adds the expert's steps under the critique of its own success, and nothing else", () => {
    const without = build(false)
    const withThem = build(true)
    expect(without.filter(praised)).toEqual([])
    const added = withThem.filter(praised)
    // A whole retry per praised task: at least one full expert plan (3 steps or more).
    expect(added.length).toBeGreaterThanOrEqual(3)
    expect(withThem.filter((d) => !praised(d))).toEqual(without)
    // The retry repeats the expert's completions.
    const solverCompletions = new Set(without.filter((d) => d.role === "solver").map((d) => d.completion))
    for (const d of added) {
      expect(solverCompletions.has(d.completion)).toBe(true)
      expect(d.prompt).toMatch(/(^|\n)Task: .+\nTip 1: Do the same again\.\nNow: /)
    }
  })
})
