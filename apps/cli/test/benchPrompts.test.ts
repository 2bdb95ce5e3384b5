import { describe, expect, test } from "bun:test"
import { runCli } from "./cli.ts"

describe("bench prompts", () => {
  test("reports prompt lengths per agentic environment and level; level 1 episodes are no longer than level 3's", async () => {
    const { stdout, code } = await runCli(["bench", "prompts", "--tasks", "6"])
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({ benchmark: "prompts", unit: "bytes", tasks: 6 })
    for (const env of ["household", "shop", "searchqa"]) {
      for (const level of ["level1", "level2", "level3"]) {
        const row = report[env][level]
        for (const key of ["solverPrompt", "retryPrompt", "criticPrompt", "randomPolicyPrompt"]) {
          expect(row[key].mean).toBeGreaterThan(0)
          expect(row[key].max).toBeGreaterThanOrEqual(row[key].p90)
        }
        expect(row.demonstrations.solver).toBeGreaterThanOrEqual(6)
      }
      expect(report[env].level1.expertSteps.max).toBeLessThanOrEqual(report[env].level3.expertSteps.max)
    }
  }, 30_000)
})
