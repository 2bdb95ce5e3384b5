import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import fc from "fast-check"
import {
  collectTrainingBatch,
  groupAdvantages,
  stepAdvantages,
  type TrainingSample,
  decodeAlgorithmConfig,
  defaultTemplates,
  evaluate,
  type Completion,
  type EnvironmentPackage,
  type GenerationRequest,
  type Policy,
  type Task,
} from "../src/index.ts"

/** A one-step environment: the answer to task "n" is n. */
const echoEnv: EnvironmentPackage<Task & { readonly answer: string }> = {
  name: "echo",
  description: "repeat the number",
  kind: "single-turn",
  rewardRange: [0, 1],
  maxSteps: 1,
  maxTokens: { solver: 8, critic: 8 },
  tasks: (split, { count, offset = 0 }) =>
    Effect.succeed(Array.from({ length: count }, (_, i) => ({ id: `${split}-${i + offset}`, split, text: String(i + offset), answer: String(i + offset) }))),
  make: (task) => ({
    reset: () => Effect.succeed({ observation: task.text, info: { won: false, actionValid: true } }),
    step: (action) =>
      Effect.sync(() => {
        const won = action.trim() === task.answer
        return { observation: "", reward: won ? 1 : 0, terminated: true, truncated: false, info: { won, actionValid: true } }
      }),
  }),
  reward: {
    name: "echo",
    verify: (task, trajectory) =>
      Effect.sync(() => {
        const won = trajectory.turns[0]?.action.trim() === task.answer
        return { reward: won ? 1 : 0, won, score: won ? 1 : 0 }
      }),
  },
  renderPrompt: ({ task, guidance }) =>
    guidance === undefined ? defaultTemplates.solver(task.text) : defaultTemplates.refine(task.text, guidance.attempt, guidance.critique),
  parseAction: (completion) => ({ action: completion, valid: true }),
  renderAttempt: (_task, trajectory) => trajectory.turns[0]?.completion ?? "",
  referenceCritique: (task) => ` use ${task.text}`,
}

/**
 * A scripted policy: the solver is right when `solverRight(seed)`, the critic names the answer
 * when `criticRight(seed)` (else a wrong one), the refiner follows the critique. Records every
 * batched call.
 */
const scripted = (solverRight = (seed: number) => seed % 2 === 0, criticRight = (_seed: number) => true) => {
  const calls: Array<ReadonlyArray<GenerationRequest>> = []
  const complete = (text: string): Completion => ({
    text,
    tokenIds: Array.from(new TextEncoder().encode(text)),
    logprobs: Array.from(new TextEncoder().encode(text), () => -0.5),
    promptTokens: 0,
    finishReason: "stop",
  })
  const policy: Policy = {
    name: "scripted",
    generate: (requests) =>
      Effect.sync(() => {
        calls.push(requests)
        return requests.map((r) => {
          const x = /Problem: (\d+)/.exec(r.prompt)?.[1] ?? "?"
          if (r.prompt.endsWith("Critique:")) return complete(criticRight(r.seed ?? 0) ? ` use ${x}` : ` use ${x}7`)
          if (r.prompt.includes("\nCritique:")) return complete(/Critique: use (\d+)/.exec(r.prompt)?.[1] ?? "?")
          return complete(solverRight(r.seed ?? 0) ? x : `${x}9`)
        })
      }),
  }
  return { policy, calls }
}

/** echo in two turns: the first action is not scored, the second is. */
const twoTurns: typeof echoEnv = {
  ...echoEnv,
  kind: "multi-turn",
  maxSteps: 2,
  make: (task) => {
    let turn = 0
    return {
      reset: () => Effect.succeed({ observation: task.text, info: { won: false, actionValid: true } }),
      step: (action) =>
        Effect.sync(() => {
          turn++
          const won = turn === 2 && action.trim() === task.answer
          return { observation: "again", reward: won ? 1 : 0, terminated: turn === 2, truncated: false, info: { won, actionValid: true } }
        }),
    }
  },
}

const config = (input: Record<string, unknown>) => Effect.runSync(decodeAlgorithmConfig(input))
const attemptOf = (prompt: string) => /Attempt:(.*)\n/.exec(prompt)?.[1] ?? ""
const problemOf = (prompt: string) => /Problem: (\d+)/.exec(prompt)![1]!

describe("collectTrainingBatch", () => {
  test("ICRL (reference protocol): only failed attempts are critiqued; every refinement transfers; pseudo-reward advantages", () => {
    const { policy, calls } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 3 }))
    const cfg = config({ rollout_n: 4, train_batch_size: 3 })
    const { samples, metrics } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, cfg, 0))
    const failed = Math.round(12 * (1 - metrics.critiqueFreeAccuracy))
    expect(failed).toBeGreaterThan(0)
    expect(calls.map((c) => c.length)).toEqual([12, failed, failed]) // solver, critic, refiner
    for (const r of calls[1]!) expect(attemptOf(r.prompt)).toBe(`${problemOf(r.prompt)}9`) // never a right attempt
    expect(metrics.deltaCI).toBe(0)
    expect(metrics.critiqueAssistedAccuracy).toBe(1)
    expect(metrics.successWithinRounds).toBe(1)
    expect(metrics.criticReward).toBe(1)
    expect(metrics.transferred).toBe(failed)
    const transferred = samples.filter((s) => s.transferred)
    expect(transferred).toHaveLength(failed)
    for (const s of transferred) {
      expect(s.prompt).toBe(defaultTemplates.solver(problemOf(s.prompt)))
      expect(s.advantage).toBe(0) // every refinement succeeded: a degenerate (task, 2, solver) group
    }
    // Round-1 advantages: each task's attempts with one pseudo reward of 1 in mean and std.
    for (const task of tasks) {
      const round1 = samples.filter((s) => !s.transferred && s.role === "solver" && s.prompt === defaultTemplates.solver(task.text))
      expect(round1).toHaveLength(4)
      const rewards = round1.map((s) => (new TextDecoder().decode(Uint8Array.from(s.tokenIds)) === task.text ? 1 : 0))
      const expected = groupAdvantages(rewards, { estimator: "grpo", epsilon: 1e-6, pseudoReward: 1 })
      round1.forEach((s, i) => expect(s.advantage).toBeCloseTo(expected[i]!, 12))
    }
    expect(samples.filter((s) => s.role === "critic")).toHaveLength(failed)
  })

  test("law: under `failed` no right attempt is ever critiqued, in any round", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 4 }), fc.nat({ max: 100 }), (count, G, rounds, step) => {
        const { policy, calls } = scripted(
          (seed) => seed % 3 === 0,
          (seed) => seed % 2 === 0,
        )
        const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count }))
        Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ rollout_n: G, max_rounds: rounds }), step))
        for (const call of calls) for (const r of call) if (r.role === "critic") expect(attemptOf(r.prompt)).not.toBe(problemOf(r.prompt))
      }),
      { numRuns: 60 },
    )
  })

  test("max_rounds 3: failed refinements are critiqued again; success within the rounds counts any round", () => {
    const { policy, calls } = scripted(
      () => false,
      (seed) => seed % 2 === 0,
    )
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 4 }))
    const { metrics } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ rollout_n: 4, max_rounds: 3 }), 2))
    const critics = calls.filter((c) => c[0]?.role === "critic")
    expect(critics).toHaveLength(2)
    expect(critics[0]).toHaveLength(16)
    const fixedInRound2 = calls[2]!.length - critics[1]!.length
    expect(critics[1]!.length).toBeGreaterThan(0)
    expect(metrics.refinements).toBe(16 + critics[1]!.length)
    expect(metrics.critiqueFreeAccuracy).toBe(0)
    expect(metrics.successWithinRounds).toBeGreaterThanOrEqual(fixedInRound2 / 16)
  })

  test("icrl-ungated (the first reconstruction): every attempt critiqued, improved refinements transfer, zero-mean (task, role) groups", () => {
    const { policy, calls } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 3 }))
    const cfg = config({ algorithm: "icrl-ungated", rollout_n: 4, train_batch_size: 3 })
    const { samples, metrics } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, cfg, 0))
    expect(calls.map((c) => c.length)).toEqual([12, 12, 12])
    expect(calls[1]!.every((r) => r.role === "critic")).toBe(true)
    expect(metrics.critiqueAssistedAccuracy).toBe(1)
    expect(metrics.deltaCI).toBe(0)
    expect(metrics.deltaIC).toBeCloseTo(1 - metrics.critiqueFreeAccuracy, 12)
    const transferred = samples.filter((s) => s.transferred)
    expect(transferred.length).toBe(metrics.transferred)
    expect(metrics.transferred).toBe(Math.round(12 * (1 - metrics.critiqueFreeAccuracy)))
    for (const s of transferred) {
      expect(s.prompt).toBe(defaultTemplates.solver(problemOf(s.prompt)))
      expect(s.advantage).toBeGreaterThan(0)
    }
    expect(samples.filter((s) => s.role === "critic")).toHaveLength(12)
    for (const task of tasks) {
      const group = samples.filter((s) => s.role === "solver" && s.prompt === defaultTemplates.solver(task.text))
      expect(Math.abs(group.reduce((a, s) => a + s.advantage, 0))).toBeLessThan(1e-9)
    }
  })

  test("the transfer mask drops exactly the refinements and critiques of tasks below the threshold", () => {
    const script = () => scripted((seed) => seed % 4 === 0, (seed) => seed % 3 === 0)
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 10 }))
    const unmasked = Effect.runSync(collectTrainingBatch(echoEnv, script().policy, tasks, config({ rollout_n: 4, use_transfer_mask: false }), 1))
    const maskedCounts: Array<number> = []
    for (const minMean of [0, 0.3, 0.6, 0.8]) {
      const { samples, metrics } = Effect.runSync(collectTrainingBatch(echoEnv, script().policy, tasks, config({ rollout_n: 4, transfer_mask_min_mean: minMean }), 1))
      let masked = 0
      // Per task, the episode ends: a success ends an episode, else the refinement ends it.
      for (const task of tasks) {
        const free = defaultTemplates.solver(task.text)
        const round1 = unmasked.samples.filter((s) => !s.transferred && s.role === "solver" && s.prompt === free)
        const refinements = unmasked.samples.filter((s) => s.transferred && s.prompt === free)
        const won = (s: TrainingSample) => new TextDecoder().decode(Uint8Array.from(s.tokenIds)) === task.text
        const ends = [...round1.filter(won), ...refinements].map((s): number => (won(s) ? 1 : 0))
        const keep = ends.some((r) => r === 1) && ends.reduce((a, b) => a + b, 0) / ends.length >= minMean
        const kept = samples.filter((s) => s.transferred && s.prompt === free)
        expect(kept).toHaveLength(keep ? refinements.length : 0)
        expect(samples.filter((s) => s.role === "critic" && s.prompt.startsWith(`Problem: ${task.text}\n`)).length).toBe(keep ? refinements.length : 0)
        if (!keep && refinements.length > 0) masked++
        expect(samples.filter((s) => !s.transferred && s.prompt === free)).toHaveLength(4) // round 1 always trains
      }
      expect(metrics.maskedTasks).toBe(masked)
      maskedCounts.push(masked)
    }
    // A higher threshold never keeps more tasks, and the thresholds span tasks kept and tasks dropped.
    maskedCounts.slice(1).forEach((n, i) => expect(n).toBeGreaterThanOrEqual(maskedCounts[i]!))
    expect(maskedCounts.some((n) => n > 0 && n < tasks.length)).toBe(true)
  })

  test("critic sources: blank and reference critiques generate nothing and are never trained; frozen critiques come from the frozen policy", () => {
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 2 }))
    for (const source of ["blank", "reference"] as const) {
      const { policy, calls } = scripted()
      const { samples, metrics } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ critic_source: source }), 1))
      expect(calls.some((c) => c.some((r) => r.role === "critic"))).toBe(false)
      expect(samples.some((s) => s.role === "critic")).toBe(false)
      const refine = calls.find((c) => c.some((r) => r.role === "refiner"))!
      for (const r of refine) expect(r.prompt).toContain(source === "blank" ? "\nCritique:\nProblem" : `Critique: use ${problemOf(r.prompt)}`)
      expect(metrics.critiqueTokens).toBe(0)
    }
    const { policy, calls } = scripted()
    const frozen = scripted()
    expect(() => Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ critic_source: "frozen" }), 1))).toThrow(/frozen/)
    const { samples } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ critic_source: "frozen" }), 1, { frozenCritic: frozen.policy }))
    expect(calls.some((c) => c.some((r) => r.role === "critic"))).toBe(false)
    expect(frozen.calls.every((c) => c.every((r) => r.role === "critic"))).toBe(true)
    expect(frozen.calls.length).toBe(1)
    expect(samples.some((s) => s.role === "critic")).toBe(false)
  })

  test("M critiques per failed attempt give M refinements each, all in one batched call per role", () => {
    const { policy, calls } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 3 }))
    const { metrics, samples } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ rollout_n: 4, critiques_per_attempt: 2 }), 4))
    const failed = Math.round(12 * (1 - metrics.critiqueFreeAccuracy))
    expect(calls.map((c) => c.length)).toEqual([12, 2 * failed, 2 * failed])
    expect(metrics.refinements).toBe(2 * failed)
    expect(samples.filter((s) => s.role === "critic")).toHaveLength(2 * failed)
  })

  test("GRPO: only solver samples, no critique calls", () => {
    const { policy, calls } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 2 }))
    const { samples, metrics } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ algorithm: "grpo" }), 3))
    expect(calls).toHaveLength(1)
    expect(samples.every((s) => s.role === "solver" && !s.transferred)).toBe(true)
    expect(metrics.refinements).toBe(0)
  })

  test("frozen critic (ablation) and critique of all attempts", () => {
    const { policy, calls } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 2 }))
    const { samples } = Effect.runSync(collectTrainingBatch(echoEnv, policy, tasks, config({ freeze_critic: true, critique_attempts: "all" }), 1))
    expect(samples.some((s) => s.role === "critic")).toBe(false)
    expect(calls[1]!.length).toBe(8)
  })

  test("step-level advantages: each turn adds omega x its step advantage among the group's turns in the same state", () => {
    const tasks = Effect.runSync(twoTurns.tasks("train", { seed: 0, count: 2 }))
    const batch = (omega: number) =>
      Effect.runSync(collectTrainingBatch(twoTurns, scripted().policy, tasks, config({ rollout_n: 4, train_batch_size: 2, use_transfer_mask: false, step_advantage_weight: omega, step_gamma: 0.5 }), 0)).samples
    const plain = batch(0)
    const stepped = batch(0.5)
    expect(stepped.map((s) => s.tokenIds)).toEqual(plain.map((s) => s.tokenIds))
    // Round 1 of each task: the first turns share one state (the task's text), the second turns another ("again").
    for (const task of tasks) {
      // An episode's turns are consecutive samples: [first, second] per attempt.
      const episodes = (samples: ReadonlyArray<TrainingSample>) => {
        const turns = samples.filter((s) => s.role === "solver" && !s.transferred && problemOf(s.prompt) === task.text)
        return Array.from({ length: turns.length / 2 }, (_, k) => turns.slice(2 * k, 2 * k + 2))
      }
      expect(episodes(plain)).toHaveLength(4)
      const won = episodes(plain).map(([, second]) => (new TextDecoder().decode(Uint8Array.from(second!.tokenIds)) === task.text ? 1 : 0))
      expect(new Set(won).size).toBe(2) // a mixed group, so the step terms are not all 0
      const expected = stepAdvantages(
        won.map((r) => [{ anchor: "first", reward: 0 }, { anchor: "second", reward: r }]),
        { gamma: 0.5, estimator: "grpo", epsilon: 1e-6 },
      )
      episodes(stepped).forEach((turns, k) => {
        turns.forEach((s, t) => expect(s.advantage).toBeCloseTo(episodes(plain)[k]![t]!.advantage + 0.5 * expected[k]![t]!, 12))
      })
    }
    // Critiques have no turns to credit: their advantages do not change.
    const critic = (samples: ReadonlyArray<TrainingSample>) => samples.filter((s) => s.role === "critic").map((s) => s.advantage)
    expect(critic(stepped)).toEqual(critic(plain))
  })

  test("the same seed and step give the same batch", () => {
    const tasks = Effect.runSync(echoEnv.tasks("train", { seed: 0, count: 3 }))
    const a = Effect.runSync(collectTrainingBatch(echoEnv, scripted().policy, tasks, config({}), 5))
    const b = Effect.runSync(collectTrainingBatch(echoEnv, scripted().policy, tasks, config({}), 5))
    expect(a).toEqual(b)
  })
})

describe("evaluate", () => {
  test("greedy attempt, critique, refinement and pass@k with the reference critic", () => {
    const { policy } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("test", { seed: 0, count: 5 }))
    const m = Effect.runSync(evaluate(echoEnv, policy, { kind: "reference" }, tasks, { seed: 1, passK: 4 }))
    expect(m.tasks).toBe(5)
    expect(m.critiqueAssistedAccuracy).toBe(1)
    expect(m.deltaIC).toBeCloseTo(1 - m.critiqueFreeAccuracy, 12)
    expect(m.criticGain).toBeCloseTo(1 - m.critiqueFreeAccuracy, 12)
    expect(m.critiqueFreeInterval.low).toBeLessThanOrEqual(m.critiqueFreeAccuracy)
    expect(Object.keys(m.passAtK)).toEqual(["pass@1", "pass@2", "pass@3", "pass@4"])
    expect(m.passAtK["pass@4"]!).toBeGreaterThanOrEqual(m.passAtK["pass@1"]!)
    expect(m.successWithinRounds).toEqual([m.critiqueFreeAccuracy, 1, 1])
  })

  test("a blank critic writes empty critiques and generates nothing", () => {
    const { policy, calls } = scripted()
    const tasks = Effect.runSync(echoEnv.tasks("test", { seed: 0, count: 4 }))
    const m = Effect.runSync(evaluate(echoEnv, policy, { kind: "blank" }, tasks, { seed: 2, rounds: 2 }))
    expect(calls.some((c) => c.some((r) => r.role === "critic"))).toBe(false)
    const refine = calls.find((c) => c.some((r) => r.role === "refiner"))!
    for (const r of refine) expect(r.prompt).toContain("\nCritique:\nProblem")
    expect(m.critiqueTokens).toBe(0)
  })

  test("law: success within k rounds starts at critique-free accuracy, adds Δi→c at k = 2, and never decreases", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.nat({ max: 50 }), fc.nat({ max: 7 }), (count, rounds, seed, salt) => {
        const hash = (x: number) => ((x ^ (x >>> 7)) * 2654435761) >>> 0
        const { policy } = scripted(
          (s) => hash(s + salt) % 3 === 0,
          (s) => hash(s ^ salt) % 2 === 0,
        )
        const tasks = Effect.runSync(echoEnv.tasks("test", { seed: 0, count }))
        const m = Effect.runSync(evaluate(echoEnv, policy, { kind: "policy", policy }, tasks, { seed, rounds }))
        expect(m.successWithinRounds).toHaveLength(rounds)
        expect(m.successWithinRounds[0]).toBe(m.critiqueFreeAccuracy)
        if (rounds >= 2) expect(m.successWithinRounds[1]!).toBeCloseTo(m.critiqueFreeAccuracy + m.deltaIC, 12)
        m.successWithinRounds.forEach((x, k) => k > 0 && expect(x).toBeGreaterThanOrEqual(m.successWithinRounds[k - 1]!))
      }),
      { numRuns: 80 },
    )
  })
})
