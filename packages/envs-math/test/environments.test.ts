import { describe, expect, setDefaultTimeout, test } from "bun:test"
import fc from "fast-check"
import { Effect } from "effect"
import { checkEnvironment, defaultTemplates, loadEnvironment } from "@icrl/core"
import type { EnvironmentPackage, Task } from "@icrl/core"
import pkg from "../package.json"
import {
  answersMatch,
  countdownEnvironment,
  environments,
  extractAnswer,
  mathEnvironment,
  mathTasks,
  STOP,
  trajectoryOf,
} from "../src/index.ts"
import type { MathTask } from "../src/index.ts"

setDefaultTimeout(60_000)

const procedural: ReadonlyArray<EnvironmentPackage> = [mathEnvironment, countdownEnvironment] as ReadonlyArray<EnvironmentPackage>

describe("the environments export", () => {
  test("matches the package.json discovery field, in order", () => {
    expect(environments.map((e) => e.name)).toEqual(pkg.icrl.environments)
    for (const e of environments) {
      expect(e.kind).toBe("single-turn")
      expect(e.maxSteps).toBe(1)
      expect(e.rewardRange).toEqual([0, 1])
      expect(e.description.length).toBeGreaterThan(10)
    }
    expect(mathEnvironment.maxTokens).toEqual({ solver: 96, critic: 64 })
  })

  test("core discovery finds every environment by name", async () => {
    for (const name of pkg.icrl.environments) {
      const env = await Effect.runPromise(loadEnvironment(name))
      expect(env.name).toBe(name)
    }
  })
})

describe.each(procedural.map((e) => [e.name, e] as const))("%s", (_name, env) => {
  const tasks = Effect.runSync(env.tasks("train", { seed: 3, count: 300 }))

  test("tasks are deterministic per seed with unique ids, and test tasks never appear in train", () => {
    expect(Effect.runSync(env.tasks("train", { seed: 3, count: 300 }))).toEqual(tasks)
    expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length)
    const test = Effect.runSync(env.tasks("test", { seed: 3, count: 300 }))
    const ids = new Set(Effect.runSync(env.tasks("train", { seed: 3, count: 3000 })).map((t) => t.id))
    for (const t of test) expect(ids.has(t.id)).toBe(false)
  })

  test("passes every conformance check, its reward agreeing with the step rewards", () => {
    const report = Effect.runSync(checkEnvironment(env, { episodes: 12, seed: 2 }))
    expect(report.failures).toEqual([])
    expect(report.checks.find((c) => c.name === "reward")!.detail).toContain(`reward "${env.reward.name}" agrees`)
  })

  test("the reward judges an episode's one turn: the expert's completion wins, another answer does not", () => {
    for (const task of tasks.slice(0, 50)) {
      const expert = env.expert!(task)[0]!
      expect(Effect.runSync(env.reward.verify(task, trajectoryOf(task.id, expert)))).toMatchObject({ reward: 1, won: true, score: 1 })
      expect(Effect.runSync(env.reward.verify(task, trajectoryOf(task.id, " Answer: banana"))).won).toBe(false)
    }
  })

  test("an episode is one step: the expert scores 1, terminates, and a later step is invalid", () => {
    for (const task of tasks.slice(0, 100)) {
      const e = env.make(task)
      expect(Effect.runSync(e.reset({ seed: 0 })).observation).toBe(task.text)
      const [expert] = env.expert!(task)
      const r = Effect.runSync(e.step(expert!))
      expect(r).toMatchObject({ reward: 1, terminated: true, truncated: false, info: { won: true, actionValid: true } })
      expect(Effect.runSync(e.step(expert!))).toMatchObject({ reward: 0, terminated: true, info: { won: false, actionValid: false } })
      Effect.runSync(e.reset({ seed: 1 }))
      expect(Effect.runSync(e.step(" Answer: banana")).reward).toBeLessThan(1)
    }
  })

  test("law: step never throws and its reward stays in range", () => {
    const e = env.make(tasks[0]!)
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        Effect.runSync(e.reset({ seed: 0 }))
        const r = Effect.runSync(e.step(s))
        expect(r.reward).toBeGreaterThanOrEqual(0)
        expect(r.reward).toBeLessThanOrEqual(1)
        expect(r.terminated).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  test("reset to a task id rebuilds that task; an unknown id is a TaskNotFound", () => {
    const e = env.make(tasks[0]!)
    const other = tasks[1]!
    expect(Effect.runSync(e.reset({ seed: 0, taskId: other.id })).observation).toBe(other.text)
    expect(Effect.runSync(e.step(env.expert!(other)[0]!)).reward).toBe(1)
    expect(() => Effect.runSync(e.reset({ seed: 0, taskId: `${env.name}:nonsense` }))).toThrow()
  })

  test("prompts use the core templates; parseAction keeps the completion; the attempt is the completion", () => {
    const task = tasks[0] as Task
    expect(env.renderPrompt({ task, observation: task.text, history: [] })).toBe(defaultTemplates.solver(task.text))
    const guidance = { attempt: " 1+1=3. Answer: 3", critique: " Step 1 is wrong: 1+1 is 2, not 3." }
    expect(env.renderPrompt({ task, observation: task.text, history: [], guidance })).toBe(
      defaultTemplates.refine(task.text, guidance.attempt, guidance.critique),
    )
    expect(env.parseAction(" x\n\ny")).toEqual({ action: " x\n\ny", valid: true })
    expect(env.renderAttempt(task, trajectoryOf(task.id, " 2+2=4. Answer: 4\n\nleftover"))).toBe(" 2+2=4. Answer: 4")
  })

  test("the reference critic calls the expert correct and fits the critic budget", () => {
    for (const task of tasks) {
      const expert = env.expert!(task)[0]!
      expect(env.referenceCritique!(task, trajectoryOf(task.id, expert))).toBe(" The solution is correct.")
      expect(Buffer.byteLength(expert)).toBeLessThanOrEqual(env.maxTokens.solver)
    }
  })

  test("warm start: deterministic per seed, all roles, stop-terminated, within budgets", () => {
    const demos = Effect.runSync(env.warmStart!({ seed: 5, count: 600 }))
    expect(demos.length).toBe(600)
    expect(Effect.runSync(env.warmStart!({ seed: 5, count: 600 }))).toEqual(demos)
    expect(Effect.runSync(env.warmStart!({ seed: 6, count: 600 }))).not.toEqual(demos)
    const roles = new Map<string, number>()
    for (const d of demos) {
      roles.set(d.role, (roles.get(d.role) ?? 0) + 1)
      expect(d.completion.endsWith(STOP)).toBe(true)
      expect(d.completion.slice(0, -STOP.length).includes(STOP)).toBe(false)
      const budget = d.role === "critic" ? env.maxTokens.critic : env.maxTokens.solver
      expect(Buffer.byteLength(d.completion)).toBeLessThanOrEqual(budget)
    }
    expect(roles.get("solver")).toBeGreaterThan(150)
    expect(roles.get("critic")).toBeGreaterThan(100)
    expect(roles.get("refiner")).toBeGreaterThan(80)
    const critics = demos.filter((d) => d.role === "critic")
    expect(critics.some((d) => d.completion === " The solution is correct.\n\n")).toBe(true)
    expect(critics.some((d) => d.completion !== " The solution is correct.\n\n")).toBe(true)
  })
})

describe("math warm start", () => {
  test("refiner demos turn a corrupted attempt plus its critique into the expert solution", () => {
    const demos = Effect.runSync(mathEnvironment.warmStart!({ seed: 2, count: 400, options: { difficulty: "1-3" } }))
    const byText = new Map(mathTasks("train", { seed: 2, count: 400, options: { difficulty: "1-3" } }).map((t) => [t.text, t] as const))
    let wrongRefines = 0
    for (const d of demos.filter((x) => x.role === "refiner")) {
      const m = /^Problem: (.*)\nAttempt:(.*)\nCritique:(.*)\nProblem: (.*)\nSolution:$/.exec(d.prompt)
      expect(m).not.toBeNull()
      expect(m![4]).toBe(m![1])
      const task = byText.get(m![1]!) as MathTask
      expect(d.completion).toBe(task.solution + STOP)
      if (m![3] !== " The solution is correct.") {
        wrongRefines++
        expect(answersMatch(extractAnswer(m![2]!), task.answer)).toBe(false)
        expect(mathEnvironment.referenceCritique!(task, trajectoryOf(task.id, m![2]!))).toBe(m![3]!)
      }
    }
    expect(wrongRefines).toBeGreaterThan(40)
  })

  test("difficulty reaches the tasks; default is levels 1-2", () => {
    const levels = new Set(mathTasks("train", { seed: 1, count: 500 }).map((t) => t.level))
    expect(levels).toEqual(new Set([1, 2]))
    const hard = new Set(mathTasks("train", { seed: 1, count: 500, options: { difficulty: "4-5" } }).map((t) => t.level))
    expect(hard).toEqual(new Set([4, 5]))
  })
})
