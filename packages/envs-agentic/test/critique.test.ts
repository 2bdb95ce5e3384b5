import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { agenticTemplates, clipBytes, critiqueTips, formatCritique, maxTips } from "../src/index.ts"

const bytes = (text: string) => new TextEncoder().encode(text).length

describe("formatCritique", () => {
  test("writes the diagnosis, then the numbered tips in a <critic> block", () => {
    expect(formatCritique("Wrong place: you put the mug on the shelf 1.", ["Put it in the cabinet 1.", "Then stop."])).toBe(
      "Wrong place: you put the mug on the shelf 1. <critic>Tip 1: Put it in the cabinet 1. Tip 2: Then stop.</critic>",
    )
  })

  test("keeps at most three tips and drops tips from the end to fit the byte budget", () => {
    const tips = ["one.", "two.", "three.", "four."]
    expect(formatCritique("D.", tips)).toBe("D. <critic>Tip 1: one. Tip 2: two. Tip 3: three.</critic>")
    expect(formatCritique("D.", tips, 45)).toBe("D. <critic>Tip 1: one. Tip 2: two.</critic>")
  })

  test("law: within the budget, at most three tips, and the tips are what a retry shows", () => {
    const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 120 }).filter((t) => !t.includes("<") && t.trim() === t && t.length > 0)
    fc.assert(
      fc.property(text, fc.array(text, { minLength: 1, maxLength: 5 }), fc.integer({ min: 60, max: 300 }), (diagnosis, tips, budget) => {
        const critique = formatCritique(diagnosis, tips, budget)
        expect(bytes(critique)).toBeLessThanOrEqual(budget)
        const shown = critiqueTips(critique)
        expect(shown).toStartWith("Tip 1: ")
        expect((shown.match(/Tip \d: /g) ?? []).length).toBeLessThanOrEqual(maxTips)
      }),
      { numRuns: 300 },
    )
  })
})

describe("critiqueTips", () => {
  test("takes the first block, an unclosed block to the end, or the whole critique", () => {
    expect(critiqueTips("x <critic>Tip 1: a.</critic> <critic>Tip 1: b.</critic>")).toBe("Tip 1: a.")
    expect(critiqueTips("x <critic>Tip 1: a. Tip 2: b")).toBe("Tip 1: a. Tip 2: b")
    expect(critiqueTips("  look in the drawer  ")).toBe("look in the drawer")
  })
})

describe("clipBytes", () => {
  test("cuts to a byte budget without splitting characters", () => {
    expect(clipBytes("abcdef", 6)).toBe("abcdef")
    expect(clipBytes("abcdef", 5)).toBe("ab...")
    expect(clipBytes("ééé", 5)).toBe("é...")
    expect(clipBytes("abc", 2)).toBe("")
  })
})

describe("agenticTemplates", () => {
  test("the critic prompt is the task, the attempt summary and the cue", () => {
    expect(agenticTemplates.critic("put a mug in shelf.", "\n> look\nok\nReward: 0")).toBe("Task: put a mug in shelf.\nAttempt:\n> look\nok\nReward: 0\nCritique:")
  })
})
