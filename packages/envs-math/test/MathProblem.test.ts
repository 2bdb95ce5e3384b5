import { Rng } from "@icrl/core"
import { describe, expect, setDefaultTimeout, test } from "bun:test"
import fc from "fast-check"
import { ConfigError } from "@icrl/core"
import { classify, generateProblem, mathTask, mathTasks, parseDifficulty, parseExpression, renderExpression } from "../src/index.ts"
import type { Expr } from "../src/index.ts"

setDefaultTimeout(60_000)

describe("MathProblem", () => {
  test("law: a generated problem of level L classifies as level L", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 5 }), (seed, level) => {
        const text = renderExpression(generateProblem(new Rng(seed), level))
        expect(classify(parseExpression(text) as Expr)).toBe(level)
      }),
      { numRuns: 2000 },
    )
  })

  test("levels grow in difficulty: examples", () => {
    expect(classify(parseExpression("47+38") as Expr)).toBe(1)
    expect(classify(parseExpression("9-4") as Expr)).toBe(1)
    expect(classify(parseExpression("478+356") as Expr)).toBe(2)
    expect(classify(parseExpression("47*3") as Expr)).toBe(2)
    expect(classify(parseExpression("17-52") as Expr)).toBe(3)
    expect(classify(parseExpression("12-5*3") as Expr)).toBe(3)
    expect(classify(parseExpression("47*38") as Expr)).toBe(4)
    expect(classify(parseExpression("(12-5)*3") as Expr)).toBe(4)
    expect(classify(parseExpression("478*56") as Expr)).toBe(5)
    expect(classify(parseExpression("(84/7+5)*3") as Expr)).toBe(5)
    expect(classify(parseExpression("5") as Expr)).toBeUndefined()
    expect(classify(parseExpression("-5+2") as Expr)).toBeUndefined()
  })

  test("parseDifficulty reads a level, a range or a list, and names the field on bad input", () => {
    expect(parseDifficulty(undefined)).toEqual([1, 2])
    expect(parseDifficulty("3")).toEqual([3])
    expect(parseDifficulty("1-3")).toEqual([1, 2, 3])
    expect(parseDifficulty("1,3,5")).toEqual([1, 3, 5])
    for (const bad of ["0", "6", "3-1", "x", "1-", "2.5"]) {
      try {
        parseDifficulty(bad)
        throw new Error(`accepted ${bad}`)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        expect((e as ConfigError).field).toBe("difficulty")
      }
    }
  })

  test("law: generators are deterministic per (seed, offset, count, difficulty)", () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 40 }), fc.nat(100), fc.constantFrom("1", "2", "1-2", "1-5", "4,5"), (seed, count, offset, difficulty) => {
        const a = mathTasks("train", { seed, count, offset, options: { difficulty } })
        const b = mathTasks("train", { seed, count, offset, options: { difficulty } })
        expect(a).toEqual(b)
        expect(new Set(a.map((t) => t.id)).size).toBe(a.length)
      }),
      { numRuns: 60 },
    )
    const x = mathTasks("train", { seed: 1, count: 50 }).map((t) => t.id)
    const y = mathTasks("train", { seed: 2, count: 50 }).map((t) => t.id)
    expect(x).not.toEqual(y)
  })

  test("splits are disjoint on 100k tasks (50k per split), and every task is in the split asked for", () => {
    const options = { seed: 7, count: 50_000, options: { difficulty: "1-5" } }
    const train = mathTasks("train", options)
    const test = mathTasks("test", options)
    expect(train.length).toBe(50_000)
    expect(test.length).toBe(50_000)
    const trainIds = new Set(train.map((t) => t.id))
    for (const t of test) {
      expect(t.split).toBe("test")
      if (trainIds.has(t.id)) throw new Error(`shared task ${t.id}`)
    }
    for (const t of train) if (t.split !== "train") throw new Error(`misfiled ${t.id}`)
  }, 120_000)

  test("level 1 is a small space: requesting more distinct tasks than exist returns what exists", () => {
    const all = mathTasks("test", { seed: 3, count: 5000, options: { difficulty: "1" } })
    expect(all.length).toBeGreaterThan(500)
    expect(all.length).toBeLessThanOrEqual(5000)
    expect(new Set(all.map((t) => t.text)).size).toBe(all.length)
  }, 60_000)

  test("task ids are stable and rebuild the task", () => {
    const [task] = mathTasks("train", { seed: 5, count: 1 })
    expect(task).toBeDefined()
    expect(mathTask(task!.text)).toEqual(task!)
    expect(mathTask("47+38")?.id).toBe("math:47+38")
    expect(mathTask("(47+38)")).toBeUndefined()
    expect(mathTask("47")).toBeUndefined()
  })
})
