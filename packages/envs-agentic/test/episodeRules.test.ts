import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { defaultEpisodeRules, EpisodeClock, episodeRulesOf } from "../src/index.ts"

describe("EpisodeClock", () => {
  test("the reference rules: 30 turns, stop after the same action three times in a row", () => {
    expect(defaultEpisodeRules).toEqual({ maxSteps: 30, repeatLimit: 3 })
    const clock = new EpisodeClock(defaultEpisodeRules)
    expect([clock.tick("look"), clock.tick("look"), clock.tick("go to desk 1"), clock.tick("look"), clock.tick("look")]).toEqual([false, false, false, false, false])
    expect(clock.tick("look")).toBe(true)
    clock.reset()
    expect(clock.steps).toBe(0)
    expect(clock.tick("look")).toBe(false)
  })

  test("law: the clock stops exactly at the cap, or at the first run of repeatLimit identical actions", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 35 }), fc.integer({ min: 0, max: 4 }), (actions, maxSteps, repeatLimit) => {
        const clock = new EpisodeClock({ maxSteps, repeatLimit })
        const stopAt = actions.findIndex((_, i) => {
          const run = repeatLimit > 0 && i + 1 >= repeatLimit && actions.slice(i + 1 - repeatLimit, i + 1).every((a) => a === actions[i])
          return i + 1 >= maxSteps || run
        })
        const stops = actions.map((a) => clock.tick(a))
        expect(stops.indexOf(true)).toBe(stopAt)
      }),
    )
  })
})

describe("episodeRulesOf", () => {
  test("fills defaults and names a bad option", () => {
    expect(episodeRulesOf({})).toEqual(defaultEpisodeRules)
    expect(episodeRulesOf({ maxSteps: 50, repeatLimit: 0 })).toEqual({ maxSteps: 50, repeatLimit: 0 })
    expect(() => episodeRulesOf({ maxSteps: 0 })).toThrow(/maxSteps/)
    expect(() => episodeRulesOf({ repeatLimit: 1.5 })).toThrow(/repeatLimit/)
  })
})
