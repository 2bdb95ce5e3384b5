import { describe, expect, test } from "bun:test"
import { checkEnvironment, decodeAlgorithmConfig } from "@icrl/core"
import { defaultStops, type EnvironmentPackage, loadEnvironment } from "@icrl/core"
import { Effect } from "effect"
import { agenticTemplates, agenticTrainingDefaults, copyDrillTrainingDefaults, critiqueTips, environments, household, parseAction, searchqa, shop } from "../src/index.ts"

describe("environments export", () => {
  test("provides household and shop, matching package.json's icrl field", async () => {
    const manifest = (await import("../package.json")).default as { icrl: { environments: Array<string> } }
    expect(environments.map((e) => e.name)).toEqual(manifest.icrl.environments)
    expect(environments.map((e) => e.name)).toEqual(["household", "shop", "searchqa"])
  })

  test("--env NAME resolves to these packages through core discovery", async () => {
    const found = await Effect.runPromise(loadEnvironment("household"))
    expect(found.name).toBe("household")
    expect(found.maxSteps).toBe(30)
    const shopFound = await Effect.runPromise(loadEnvironment("shop"))
    expect(shopFound.description).toContain("BM25")
  })
})

describe("environment doctor", () => {
  for (const pkg of [household, shop] as ReadonlyArray<EnvironmentPackage>) {
    for (const difficulty of ["1", "2", "3"]) {
      test(`${pkg.name} at difficulty ${difficulty} passes every conformance check`, () => {
        const report = Effect.runSync(checkEnvironment(pkg, { episodes: 12, seed: 1, taskOptions: { difficulty } }))
        expect(report.failures).toEqual([])
        expect(report.expertSuccessRate).toBe(1)
        expect(report.criticCoverage).toBe(1)
        expect(report.checks.every((c) => c.ok && !c.skipped)).toBe(true)
      }, 30_000)
    }
  }
})

describe("warm-start demonstrations", () => {
  // Copy drills per task: household learns without them.
  const drillsPerTask: Readonly<Record<string, number>> = { household: 0, shop: 2, searchqa: 2 }
  test("a package with copy drills warm-starts at the copy-drill defaults (half the lr), one without at the agentic ones; shop takes fewer updates", () => {
    for (const pkg of [household, searchqa] as ReadonlyArray<EnvironmentPackage>) {
      expect(pkg.trainingDefaults?.warmstart).toBe(drillsPerTask[pkg.name]! > 0 ? copyDrillTrainingDefaults.warmstart : agenticTrainingDefaults.warmstart)
    }
    expect<number>(copyDrillTrainingDefaults.warmstart.lr).toBe(agenticTrainingDefaults.warmstart.lr / 2)
    // Shop: the copy-drill batch and lr, stopped early enough to leave the RL stage room.
    const { steps, ...rest } = shop.trainingDefaults!.warmstart!
    expect(rest).toEqual({ batchSize: copyDrillTrainingDefaults.warmstart.batchSize, lr: copyDrillTrainingDefaults.warmstart.lr })
    expect(steps!).toBeLessThan(copyDrillTrainingDefaults.warmstart.steps)
  })
  test("RL takes the agentic knobs; shop alone samples its rollouts colder than the global default and anchors them with a KL term", () => {
    const globalConfig = Effect.runSync(decodeAlgorithmConfig({}))
    for (const pkg of [household, searchqa] as ReadonlyArray<EnvironmentPackage>) expect(pkg.trainingDefaults?.knobs).toEqual(agenticTrainingDefaults.knobs)
    const { temperature, use_kl_loss, kl_loss_coef, ...rest } = shop.trainingDefaults!.knobs!
    expect(rest).toEqual(agenticTrainingDefaults.knobs)
    expect(temperature).toBeLessThan(globalConfig.temperature)
    expect(globalConfig.use_kl_loss).toBe(false)
    expect(use_kl_loss).toBe(true)
    expect(kl_loss_coef).toBeGreaterThan(0)
    // The knobs decode as an algorithm config.
    expect(Effect.runSync(decodeAlgorithmConfig(shop.trainingDefaults!.knobs!)).kl_loss_coef).toBe(kl_loss_coef!)
  })
  test("at levels 1-2 every demonstration leaves its role's whole reply room in the small model's 1,024-byte context", () => {
    const bytes = (text: string) => new TextEncoder().encode(text).length
    for (const pkg of [household, shop, searchqa] as ReadonlyArray<EnvironmentPackage>) {
      for (const difficulty of ["1", "2"]) {
        const demos = Effect.runSync(pkg.warmStart!({ seed: 0, count: 100, options: { difficulty } })).filter((d) => d.drill !== true)
        expect(demos.length).toBeGreaterThan(100)
        // The beginning-of-sequence token takes one place.
        const over = demos.filter((d) => 1 + bytes(d.prompt) + pkg.maxTokens[d.role === "critic" ? "critic" : "solver"] > 1024)
        expect(over.map((d) => `${pkg.name} ${difficulty} ${d.role}: ${bytes(d.prompt)} bytes`)).toEqual([])
      }
    }
  })
  for (const pkg of [household, shop, searchqa] as ReadonlyArray<EnvironmentPackage>) {
    test(`${pkg.name}: three roles, copy drills, stop-terminated completions, deterministic per seed, train tasks only`, () => {
      const all = Effect.runSync(pkg.warmStart!({ seed: 3, count: 12 }))
      expect(Effect.runSync(pkg.warmStart!({ seed: 3, count: 12 }))).toEqual(all)
      expect(Effect.runSync(pkg.warmStart!({ seed: 4, count: 12 }))).not.toEqual(all)
      const drills = all.filter((d) => d.drill === true)
      expect(drills.length).toBe(12 * drillsPerTask[pkg.name]!)
      for (const d of drills) expect(d.prompt).toStartWith("Copy: ")
      const demos = all.filter((d) => d.drill !== true)
      const roles = (r: string) => demos.filter((d) => d.role === r)
      expect(roles("solver").length).toBeGreaterThan(12)
      expect(roles("critic").length).toBeGreaterThanOrEqual(12)
      expect(roles("refiner").length).toBeGreaterThan(0)
      const stop = defaultStops.solver[0]!
      for (const d of demos) {
        expect(d.completion.endsWith(stop)).toBe(true)
        expect(d.completion.slice(0, -stop.length)).not.toContain(stop)
      }
      for (const d of [...roles("solver"), ...roles("refiner")]) {
        expect(d.completion).toMatch(/^<think>[a-z]*<\/think><action>[^<]+<\/action>\n\n$/)
        expect(parseAction(d.completion).valid).toBe(true)
        expect(new TextEncoder().encode(d.completion).length).toBeLessThanOrEqual(pkg.maxTokens.solver)
      }
      for (const d of roles("solver")) expect(d.prompt).toMatch(/(^|\n)Task: .+\nNow: /)
      // A retry shows the tips of the critique between the task and the observation.
      for (const d of roles("refiner")) expect(d.prompt).toMatch(/(^|\n)Task: .+\nTip 1: .+\nNow: /)
      const trainTexts = new Set(Effect.runSync(pkg.tasks("train", { seed: 3, count: 12 })).map((t) => t.text))
      for (const d of roles("critic")) {
        const text = /^Task: (.*)\nAttempt:/.exec(d.prompt)?.[1]
        expect(trainTexts.has(text!)).toBe(true)
        const attempt = d.prompt.slice(d.prompt.indexOf("\nAttempt:") + 9, -"\nCritique:".length)
        expect(d.prompt).toBe(agenticTemplates.critic(text!, attempt))
        expect(attempt).toMatch(/\nReward: (0|1|0\.\d\d?)$/)
        expect(new TextEncoder().encode(d.completion).length).toBeLessThanOrEqual(pkg.maxTokens.critic)
        expect(critiqueTips(d.completion)).toMatch(/^Tip 1: /)
      }
      // Both corrected and successful attempts are critiqued.
      expect(roles("critic").some((d) => d.completion.startsWith(" Correct"))).toBe(true)
      expect(roles("critic").some((d) => !d.completion.startsWith(" Correct"))).toBe(true)
      // Shop alone also retries its successes under their praise (refineSuccesses).
      const praised = roles("refiner").filter((d) => d.prompt.includes("\nTip 1: Do the same again.\n"))
      expect(praised.length > 0).toBe(pkg.name === "shop")
    })
  }
})
