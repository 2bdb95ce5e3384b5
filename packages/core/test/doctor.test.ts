import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { EnvironmentError, type Environment, type EnvironmentPackage, type Reward, type StepResult, type Task, type Trajectory } from "../src/index.ts"
import { checkEnvironment, formatDoctorReport, type DoctorOptions } from "../src/doctor.ts"

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
  readonly lenientReward?: boolean
  readonly failStep?: boolean
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
      reset: () =>
        Effect.sync(() => {
          position = flaws.drift === true ? resets++ % 2 : 0
          steps = 0
          done = false
          return { observation: `at ${position}, goal ${task.goal}`, info: { won: false, actionValid: true, admissibleActions: listed() } }
        }),
      step: (action: string) =>
        flaws.failStep === true && action.includes("\u0000")
          ? Effect.fail(new EnvironmentError({ env: "walk", reason: "the simulator crashed" }))
          : Effect.sync((): StepResult => {
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
      }),
    }
  }
  // The walk's verifier: replays the actions from 0 (any action wins with lenientReward, a flaw).
  const reward: Reward<WalkTask> = {
    name: "reach-goal",
    verify: (task: WalkTask, trajectory: Trajectory) =>
      Effect.sync(() => {
        let position = 0
        for (const turn of trajectory.turns) position = turn.action === "right" ? position + 1 : turn.action === "left" ? Math.max(0, position - 1) : position
        const won = flaws.lenientReward === true ? trajectory.turns.length > 0 : position === task.goal
        return { reward: (won ? 1 : 0) * (flaws.rewardScale ?? 1), won, score: won ? 1 : 0 }
      }),
  }
  return {
    name: "walk",
    description: "walk right to the goal",
    kind: "multi-turn",
    rewardRange: [0, 1],
    maxSteps: 10,
    maxTokens: { solver: 16, critic: 32 },
    tasks: (split, options) =>
      Effect.sync(() =>
        Array.from({ length: options.count }, (_, i) => {
          const n = (options.offset ?? 0) + i
          const id = flaws.sharedIds === true ? `walk-${n}` : `walk-${split}-${options.seed}-${n}`
          return { id, split, text: `reach ${3 + (n % 4)}`, goal: 3 + (n % 4) }
        }),
      ),
    make,
    reward,
    renderPrompt: (c) => `${c.task.text}\n${c.guidance === undefined ? "" : `Critique: ${c.guidance.critique}\n`}${c.observation}\n`,
    parseAction: (completion) => ({ action: completion.trim(), valid: completion.trim().length > 0 }),
    renderAttempt: (_task, trajectory) => trajectory.turns.map((t) => t.action).join(" "),
    expert: (task) => Array.from({ length: flaws.badExpert === true ? task.goal - 1 : task.goal }, () => "right"),
    referenceCritique: (task, attempt) => (flaws.emptyCritique === true ? "" : attempt.won ? "Correct." : `Go right ${task.goal} times.`),
    warmStart: (options) =>
      Effect.succeed([
        { role: "solver", prompt: `seed ${options.seed}`, completion: "right" },
        { role: "critic", prompt: "c", completion: " Go right." },
      ]),
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
    Effect.sync(() =>
      Array.from({ length: options.count }, (_, i) => {
        const n = 2 * ((options.offset ?? 0) + i) + (split === "train" ? 0 : 1)
        return { id: `echo-${n}`, split, text: `say ${n}` }
      }),
    ),
  make: (task) => {
    let done = false
    return {
      reset: () =>
        Effect.sync(() => {
          done = false
          return { observation: task.text, info: { won: false, actionValid: true } }
        }),
      step: (action) =>
        Effect.sync(() => {
          const won = !done && action.trim() === task.text.slice(4)
          done = true
          return { observation: won ? "right" : "wrong", reward: won ? 1 : 0, terminated: true, truncated: false, info: { won, actionValid: true } }
        }),
    }
  },
  reward: {
    name: "echo",
    verify: (task, trajectory) =>
      Effect.sync(() => {
        const won = trajectory.turns[0]?.action.trim() === task.text.slice(4)
        return { reward: won ? 1 : 0, won, score: won ? 1 : 0 }
      }),
  },
  renderPrompt: (c) => `${c.task.text}${c.guidance === undefined ? "" : ` (critique: ${c.guidance.critique})`}`,
  parseAction: (completion) => ({ action: completion, valid: true }),
  renderAttempt: (_task, trajectory) => ` ${trajectory.turns[0]?.action ?? ""}`,
  expert: (task) => [task.text.slice(4)],
}

const check = (pkg: EnvironmentPackage<WalkTask> | EnvironmentPackage, options: DoctorOptions) =>
  Effect.runSync(checkEnvironment(pkg as EnvironmentPackage, options))

const verdict = (pkg: EnvironmentPackage<WalkTask> | EnvironmentPackage, name: string) => check(pkg, { episodes: 6 }).checks.find((c) => c.name === name)!

describe("checkEnvironment", () => {
  test("a conforming multi-turn package passes every check", () => {
    const report = check(walk(), { episodes: 8 })
    expect(report.failures).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.expertSuccessRate).toBe(1)
    expect(report.criticCoverage).toBe(1)
    expect(report.episodes).toBe(8)
    expect(report.checks.map((c) => c.name)).toEqual([
      "tasks", "reset", "determinism", "fuzz", "admissible", "rewardRange", "reward", "stepCap", "prompts", "expert", "critic", "trainingDefaults", "warmStart",
    ])
  })

  test("a conforming single-turn package passes, its expert being one completion", () => {
    const report = check(echo, { episodes: 5 })
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
      [{ lenientReward: true }, "reward"],
      [{ failStep: true }, "fuzz"],
    ]
    for (const [flaws, check] of cases) {
      const result = verdict(walk(flaws) as unknown as EnvironmentPackage, check)
      expect(result.ok).toBe(false)
    }
    // An out-of-range reward is also caught by the reward check when random play wins.
    const scaled = check(walk({ rewardScale: 2 }), { episodes: 6 })
    expect(scaled.ok).toBe(false)
    expect(scaled.failures.some((f) => f.includes("outside [0, 1]"))).toBe(true)
  })

  test("training defaults: pass when absent, listed when valid, failed naming the field when not", () => {
    expect(verdict(walk(), "trainingDefaults")).toMatchObject({ ok: true, skipped: false, detail: "none: the global defaults apply" })
    const tuned = { ...walk(), trainingDefaults: { warmstart: { steps: 1200, batchSize: 8, lr: 6e-3 }, knobs: { train_batch_size: 8 } } }
    const listed = verdict(tuned, "trainingDefaults")
    expect(listed.ok).toBe(true)
    expect(listed.detail).toBe("warm-start steps 1200, warm-start batchSize 8, warm-start lr 0.006, train_batch_size 8")
    const cases: Array<[unknown, string]> = [
      [{ warmstart: { batchSize: 0 } }, "trainingDefaults.warmstart.batchSize"],
      [{ warmstart: { steps: 1.5 } }, "trainingDefaults.warmstart.steps"],
      [{ warmstart: { lr: -1 } }, "trainingDefaults.warmstart.lr"],
      [{ knobs: { train_batch_size: 0 } }, "trainingDefaults.knobs.train_batch_size"],
      [{ knobs: { no_such_knob: 1 } }, "trainingDefaults.knobs"],
      [{ knobs: { seed: 3 } }, "trainingDefaults.knobs.seed"],
    ]
    for (const [defaults, field] of cases) {
      const result = verdict({ ...walk(), trainingDefaults: defaults } as unknown as EnvironmentPackage, "trainingDefaults")
      expect(result.ok).toBe(false)
      expect(result.detail).toContain(field)
    }
  })

  test("a thrown exception and a failed step are reported with what happened", () => {
    expect(verdict(walk({ throwOn: "x" }), "fuzz").detail).toContain("threw Error: boom")
    expect(verdict(walk({ failStep: true }), "fuzz").detail).toContain('failed: EnvironmentError: environment "walk" failed: the simulator crashed')
  })

  test("the expert success rate counts lost episodes", () => {
    const report = check(walk({ badExpert: true }), { episodes: 4 })
    expect(report.expertSuccessRate).toBe(0)
    expect(report.failures.some((f) => f.startsWith("expert:"))).toBe(true)
  })

  test("the report is the same for the same seed", () => {
    const a = check(walk(), { episodes: 4, seed: 3 })
    const b = check(walk(), { episodes: 4, seed: 3 })
    expect(a).toEqual(b)
  })

  test("the text report has a verdict per check and a JSON summary line", () => {
    const report = check(walk({ noCap: true }), { episodes: 3 })
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
