import { describe, expect, test } from "bun:test"
import type { EnvironmentPackage, Task } from "@icrl/core"
import { Effect } from "effect"
import { agenticLevel, household, searchqa, shop } from "../src/index.ts"

describe("agenticLevel", () => {
  test("reads 1, 2 or 3, default 1", () => {
    expect(agenticLevel("household", {})).toBe(1)
    expect(agenticLevel("household", undefined)).toBe(1)
    expect(agenticLevel("shop", { difficulty: "3" })).toBe(3)
    expect(agenticLevel("shop", { difficulty: " 2 " })).toBe(2)
  })

  test("anything else is a ConfigError on difficulty listing the allowed values, for every agentic env", () => {
    for (const pkg of [household, shop, searchqa] as ReadonlyArray<EnvironmentPackage<Task>>) {
      for (const bad of ["0", "4", "1-3", "easy", ""]) {
        const error = Effect.runSync(Effect.flip(pkg.tasks("train", { seed: 0, count: 1, options: { difficulty: bad } })))
        expect(error._tag).toBe("ConfigError")
        expect(error._tag === "ConfigError" && error.field).toBe("difficulty")
        expect(error._tag === "ConfigError" && error.detail).toBe(`"${bad}" is not a ${pkg.name} level; allowed: 1, 2, 3`)
      }
    }
  })
})
