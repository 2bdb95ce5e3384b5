import { describe, expect, test } from "bun:test"
import type { Demonstration } from "@icrl/core"
import { copyDrills, demoStop } from "../src/index.ts"

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
