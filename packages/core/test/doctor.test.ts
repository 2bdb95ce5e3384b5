import { describe, expect, test } from "bun:test"
import type { Environment, EnvironmentPackage, StepResult, Task } from "../src/index.ts"
import { checkEnvironment, formatDoctorReport } from "../src/doctor.ts"

interface WalkTask extends Task {
  readonly goal: number
}

interface WalkFlaws {
  readonly throwOn?: string
  readonly rewardScale?: number
  readonly noCap?: boolean
  readonly drift?: boolean
  readonly badExpert?: boolean
  readonly rejectListed?: boolean
  readonly emptyCritique?: boolean
  readonly sharedIds?: boolean
}

/** A small multi-turn environment: walk right from 0 to the goal in at most 10 steps. */
const walk = (flaws: WalkFlaws = {}): EnvironmentPackage<WalkTask> => {
  let resets = 0
  const make = (task: WalkTask): Environment => {
    let position = 0
    let steps = 0
    let done = false
    const listed = () => (done ? [] : flaws.rejectListed === true ? ["left", "right", "jump"] : ["left", "right"])
    return {
      reset: () => {
        position = flaws.drift === true ? resets++ % 2 : 0
        steps = 0
        done = false
        return { observation: `at ${position}, goal ${task.goal}`, info: { won: false, actionValid: true, admissibleActions: listed() } }
      },
      step: (action: string): StepResult => {
        if (flaws.throwOn !== undefined && action.includes(flaws.throwOn)) throw new Error("boom")
        if (done) return { observation: "over", reward: 0, terminated: position === task.goal, truncated: position !== task.goal, info: { won: position === task.goal, actionValid: false, admissibleActions: [] } }
        steps++
        const valid = action === "left" || action === "right"
        if (action === "right") position++
        if (action === "left") position = Math.max(0, position - 1)
        const won = position === task.goal
        const truncated = !won && flaws.noCap !== true && steps >= 10
        done = won || truncated
        return {
          observation: valid ? `at ${position}` : "Nothing happens.",
          reward: (won ? 1 : 0) * (flaws.rewardScale ?? 1),
          terminated: won,
          truncated,
          info: { won, actionValid: valid, admissibleActions: listed() },
        }
      },
    }
  }
  return {
    name: "walk",
    description: "walk right to the goal",
    kind: "multi-turn",
    rewardRange: [0, 1],
    maxSteps: 10,
    maxTokens: { solver: 16, critic: 32 },
    tasks: (split, options) =>
      Array.from({ length: options.count }, (_, i) => {
        const n = (options.offset ?? 0) + i
        const id = flaws.sharedIds === true ? `walk-${n}` : `walk-${split}-${options.seed}-${n}`
        return { id, split, text: `reach ${3 + (n % 4)}`, goal: 3 + (n % 4) }
      }),
    make,
    renderPrompt: (c) => `${c.task.text}\n${c.guidance === undefined ? "" : `Critique: ${c.guidance.critique}\n`}${c.observation}\n`,
    parseAction: (completion) => ({ action: completion.trim(), valid: completion.trim().length > 0 }),
    renderAttempt: (_task, trajectory) => trajectory.turns.map((t) => t.action).join(" "),
    expert: (task) => Array.from({ length: flaws.badExpert === true ? task.goal - 1 : task.goal }, () => "right"),
    referenceCritique: (task, attempt) => (flaws.emptyCritique === true ? "" : attempt.won ? "Correct." : `Go right ${task.goal} times.`),
    warmStart: (options) => [
      { role: "solver", prompt: `seed ${options.seed}`, completion: "right" },
      { role: "critic", prompt: "c", completion: " Go right." },
    ],
  }
}

/** A single-turn environment: answer the number in the task. */
const echo: EnvironmentPackage = {
  name: "echo",
  description: "repeat the number",
  kind: "single-turn",
  rewardRange: [0, 1],
  maxSteps: 1,
  maxTokens: { solver: 8, critic: 32 },
  tasks: (split, options) =>
    Array.from({ length: options.count }, (_, i) => {
      const n = 2 * ((options.offset ?? 0) + i) + (split === "train" ? 0 : 1)
      return { id: `echo-${n}`, split, text: `say ${n}` }
    }),
  make: (task) => {
    let done = false
    return {
      reset: () => {
        done = false
        return { observation: task.text, info: { won: false, actionValid: true } }
      },
      step: (action) => {
        const won = !done && action.trim() === task.text.slice(4)
        done = true
        return { observation: won ? "right" : "wrong", reward: won ? 1 : 0, terminated: true, truncated: false, info: { won, actionValid: true } }
      },
    }
  },
  renderPrompt: (c) => `${c.task.text}${c.guidance === undefined ? "" : ` (critique: ${c.guidance.critique})`}`,
  parseAction: (completion) => ({ action: completion, valid: true }),
  renderAttempt: (_task, trajectory) => ` ${trajectory.turns[0]?.action ?? ""}`,
  expert: (task) => [task.text.slice(4)],
}

const verdict = (pkg: EnvironmentPackage<WalkTask> | EnvironmentPackage, name: string) =>
  checkEnvironment(pkg as EnvironmentPackage, { episodes: 6 }).checks.find((c) => c.name === name)!

describe("checkEnvironment", () => {
  test("a conforming multi-turn package passes every check", () => {
    const report = checkEnvironment(walk() as unknown as EnvironmentPackage, { episodes: 8 })
    expect(report.failures).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.expertSuccessRate).toBe(1)
    expect(report.criticCoverage).toBe(1)
    expect(report.episodes).toBe(8)
    expect(report.checks.map((c) => c.name)).toEqual([
      "tasks", "reset", "determinism", "fuzz", "admissible", "rewardRange", "stepCap", "prompts", "expert", "critic", "warmStart",
    ])
  })

  test("a conforming single-turn package passes, its expert being one completion", () => {
    const report = checkEnvironment(echo, { episodes: 5 })
    expect(report.failures).toEqual([])
    expect(report.expertSuccessRate).toBe(1)
    expect(report.criticCoverage).toBeNull()
    expect(report.checks.find((c) => c.name === "critic")!.skipped).toBe(true)
    expect(report.checks.find((c) => c.name === "admissible")!.skipped).toBe(true)
  })

  test("each flaw fails the check that is about it", () => {
    const cases: Array<[WalkFlaws, string]> = [
      [{ throwOn: "x" }, "fuzz"],
      [{ rewardScale: 2 }, "expert"],
      [{ noCap: true }, "stepCap"],
      [{ drift: true }, "reset"],
      [{ badExpert: true }, "expert"],
      [{ rejectListed: true }, "admissible"],
      [{ emptyCritique: true }, "critic"],
      [{ sharedIds: true }, "tasks"],
    ]
    for (const [flaws, check] of cases) {
      const result = verdict(walk(flaws) as unknown as EnvironmentPackage, check)
      expect(result.ok).toBe(false)
    }
    // An out-of-range reward is also caught by the reward check when random play wins.
    const scaled = checkEnvironment(walk({ rewardScale: 2 }) as unknown as EnvironmentPackage, { episodes: 6 })
    expect(scaled.ok).toBe(false)
    expect(scaled.failures.some((f) => f.includes("outside [0, 1]"))).toBe(true)
  })

  test("the expert success rate counts lost episodes", () => {
    const report = checkEnvironment(walk({ badExpert: true }) as unknown as EnvironmentPackage, { episodes: 4 })
    expect(report.expertSuccessRate).toBe(0)
    expect(report.failures.some((f) => f.startsWith("expert:"))).toBe(true)
  })

  test("the report is the same for the same seed", () => {
    const a = checkEnvironment(walk() as unknown as EnvironmentPackage, { episodes: 4, seed: 3 })
    const b = checkEnvironment(walk() as unknown as EnvironmentPackage, { episodes: 4, seed: 3 })
    expect(a).toEqual(b)
  })

  test("the text report has a verdict per check and a JSON summary line", () => {
    const report = checkEnvironment(walk({ noCap: true }) as unknown as EnvironmentPackage, { episodes: 3 })
    const text = formatDoctorReport(report)
    const lines = text.split("\n")
    expect(lines[0]).toContain("walk")
    expect(lines.filter((l) => /^\s+(PASS|FAIL|SKIP)\s/.test(l)).length).toBe(report.checks.length)
    expect(text).toMatch(/FAIL\s+stepCap/)
    expect(text).toContain("verdict: FAIL")
    const summary = JSON.parse(lines.at(-1)!)
    expect(summary).toEqual({
      env: "walk",
      episodes: 3,
      expertSuccessRate: 1,
      criticCoverage: 1,
      failures: report.failures,
    })
  })
})
