import { beforeAll, describe, expect, test } from "bun:test"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { Rng, type Demonstration, type EnvironmentPackage, type GenerationRequest, type Policy, type RoleTemplates, type Task } from "@icrl/core"
import fc from "fast-check"
import { createHash } from "node:crypto"
import {
  ByteTokenizer,
  critiqueVerdict,
  demonstrationExample,
  demonstrationsDigest,
  drillBatchSize,
  drillPlan,
  epochBatches,
  evaluateRoles,
  expertStepAccuracy,
  modelConfig,
  sftLoss,
  TransformerModel,
  warmStart,
} from "../src/index.ts"
import { useWasm } from "./helpers.ts"

interface DoubleTask extends Task {
  readonly n: number
}

/** Short role templates (an environment override) keep the sequences short. */
const templates: RoleTemplates = {
  solver: (x) => `${x}*2=`,
  critic: (x, attempt) => `${x}*2=${attempt}?`,
  refine: (x, attempt, critique) => `${x}*2=${attempt}?${critique}!`,
}

/** A one-step environment: "n*2=" is solved by writing 2n. */
const doubling: EnvironmentPackage<DoubleTask> = {
  name: "doubling",
  description: "double a number",
  kind: "single-turn",
  rewardRange: [0, 1],
  maxSteps: 1,
  maxTokens: { solver: 6, critic: 12 },
  tasks: (split, { count, offset = 0 }) =>
    Effect.succeed(
      Array.from({ length: count }, (_, i) => {
        const n = ((i + offset) % 8) + 1
        return { id: `${split}-${n}`, split, text: String(n), n }
      }),
    ),
  make: (task) => {
    let done = false
    return {
      reset: () => Effect.succeed({ observation: task.text, info: { won: false, actionValid: true } }),
      step: (action) =>
        Effect.sync(() => {
          const won = !done && action.trim() === String(task.n * 2)
          done = true
          return { observation: won ? "right" : "wrong", reward: won ? 1 : 0, terminated: true, truncated: false, info: { won, actionValid: true } }
        }),
    }
  },
  reward: {
    name: "doubled",
    verify: (task, trajectory) =>
      Effect.sync(() => {
        const won = trajectory.turns[0]?.action.trim() === String(task.n * 2)
        return { reward: won ? 1 : 0, won, score: won ? 1 : 0 }
      }),
  },
  templates,
  renderPrompt: ({ task, guidance }) =>
    guidance === undefined ? templates.solver(task.text) : templates.refine(task.text, guidance.attempt, guidance.critique),
  parseAction: (completion) => ({ action: completion.trim(), valid: true }),
  renderAttempt: (_task, trajectory) => ` ${trajectory.turns[0]?.completion.trim() ?? ""}`,
}

/** 16 demonstrations: 8 solver demos, 4 critiques (2 right, 2 wrong attempts), 4 refinements. */
const demonstrations: Array<Demonstration> = [
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ role: "solver" as const, prompt: templates.solver(String(n)), completion: ` ${2 * n}` })),
  ...[1, 2].map((n) => ({ role: "critic" as const, prompt: templates.critic(String(n), ` ${2 * n}`), completion: "Correct." })),
  ...[3, 4].map((n) => ({ role: "critic" as const, prompt: templates.critic(String(n), ` ${n}`), completion: `Wrong, ${2 * n}.` })),
  ...[3, 4, 5, 6].map((n) => ({
    role: "refiner" as const,
    prompt: templates.refine(String(n), ` ${n}`, `Wrong, ${2 * n}.`),
    completion: ` ${2 * n}`,
  })),
]

const tok = new ByteTokenizer()

beforeAll(useWasm)

describe("critiqueVerdict", () => {
  test("reads negative verdicts before positive words", () => {
    expect(critiqueVerdict("Correct.")).toBe(true)
    expect(critiqueVerdict("Wrong, it is 8.")).toBe(false)
    expect(critiqueVerdict("This is not correct")).toBe(false)
    expect(critiqueVerdict("The answer is incorrect")).toBe(false)
    expect(critiqueVerdict("The answer should be 198, not 918.")).toBe(false)
    expect(critiqueVerdict("Step 1 is wrong: 2+9 is 11, not 13.")).toBe(false)
    expect(critiqueVerdict("The solution is correct.")).toBe(true)
    expect(critiqueVerdict("Hmm")).toBeUndefined()
  })
})

describe("drillPlan", () => {
  test("one pass over the drills in batches of drillBatchSize; mixes at most a third as many drills as task demos", () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), (drills, tasks) => {
        const { steps, mixed } = drillPlan(drills, tasks)
        expect(steps * drillBatchSize).toBeGreaterThanOrEqual(drills)
        expect(Math.max(0, steps - 1) * drillBatchSize).toBeLessThan(Math.max(1, drills))
        expect(mixed).toBeLessThanOrEqual(drills)
        expect(mixed).toBeLessThanOrEqual(Math.ceil(tasks / 3))
        if (drills >= Math.ceil(tasks / 3)) expect(mixed).toBe(Math.ceil(tasks / 3))
      }),
    )
    expect(drillPlan(0, 500)).toEqual({ steps: 0, mixed: 0 })
  })

  test("a demonstration's drill mark is part of the digest; unmarked demonstrations hash as before", () => {
    const demo: Demonstration = { role: "solver", prompt: "Copy: a b\n", completion: "a b\n\n" }
    expect(demonstrationsDigest([{ ...demo, drill: true }])).not.toBe(demonstrationsDigest([demo]))
    expect(demonstrationsDigest([{ ...demo, drill: false }])).toBe(demonstrationsDigest([demo]))
    // The digest of unmarked demonstrations is unchanged, so existing warm-start caches stay valid.
    expect(demonstrationsDigest([demo])).toBe(createHash("sha256").update("solver\0Copy: a b\n\0a b\n\n\0").digest("hex"))
  })
})

describe("epochBatches", () => {
  test("an epoch's batches are a partition of the examples into batches of at most batchSize", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(30), { maxLength: 80 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (lengths, size, seed) => {
        const examples = lengths.map((n, i) => ({ promptIds: [i], completionIds: Array<number>(n).fill(1) }))
        const batches = epochBatches(examples, size, new Rng(seed))
        const seen = batches.flat().map((ex) => ex.promptIds[0]!).sort((a, b) => a - b)
        return batches.every((b) => b.length >= 1 && b.length <= size) && JSON.stringify(seen) === JSON.stringify(lengths.map((_, i) => i))
      }),
    )
  })

  test("the same rng seed gives the same batches; batches are full except the last", () => {
    const examples = Array.from({ length: 70 }, (_, i) => ({ promptIds: [i], completionIds: [1] }))
    const a = epochBatches(examples, 8, new Rng(3))
    expect(a).toEqual(epochBatches(examples, 8, new Rng(3)))
    expect(a.map((b) => b.length)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 6])
  })
})

describe("warmStart", () => {
  test("a tiny model overfits a 16-example dataset to near-zero loss and solves its tasks", async () => {
    const model = new TransformerModel(modelConfig("tiny", tok.vocabSize), 0)
    const progress: Array<number> = []
    // A first evaluation creates the few constants the fused ops keep for the process.
    tf.tidy(() => {
      sftLoss(model, demonstrations.map((d) => demonstrationExample(tok, d)))
    })
    const before = tf.memory().numTensors
    const result = await Effect.runPromise(
      warmStart({
        env: doubling,
        model,
        tokenizer: tok,
        steps: 100,
        batchSize: 16,
        lr: 1e-2,
        seed: 0,
        demonstrations,
        evalTasks: 8,
        optimizer: { weightDecay: 0 },
        onProgress: (p) => progress.push(p.step),
      }),
    )
    expect(tf.memory().numTensors).toBe(before)
    expect(progress).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(result.demonstrations).toBe(16)
    expect(result.losses[0]!).toBeGreaterThan(3)
    expect(result.finalLoss).toBeLessThan(0.05)
    const full = sftLoss(model, demonstrations.map((d) => demonstrationExample(tok, d)))
    expect(full.dataSync()[0]!).toBeLessThan(0.05)
    full.dispose()
    expect(result.evaluation?.tasks).toBe(8)
    expect(result.evaluation?.solverAccuracy).toBe(1)
    // The critic and refiner saw four examples each: their accuracies are measured, not perfect.
    for (const x of [result.evaluation!.critiqueAccuracy, result.evaluation!.refinedAccuracy]) {
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThanOrEqual(1)
    }
    model.dispose()
  }, 120_000)

  test("an untrained model scores near zero on the held-out evaluation", () => {
    const model = new TransformerModel(modelConfig("tiny", tok.vocabSize), 1)
    const ev = Effect.runSync(evaluateRoles(model, tok, doubling, Effect.runSync(doubling.tasks("test", { seed: 0, count: 8 })), 0))
    expect(ev.tasks).toBe(8)
    expect(ev.solverAccuracy).toBe(0)
    model.dispose()
  })

  test("copy drills train first, in their own updates, then a quarter of the mix; without steps, none", async () => {
    const drills: Array<Demonstration> = Array.from({ length: 40 }, (_, i) => ({ role: "solver", prompt: `Copy: w${i} x${i}\n`, completion: `w${i} x${i}\n\n`, drill: true }))
    const run = async (list: ReadonlyArray<Demonstration>, steps: number) => {
      const model = new TransformerModel(modelConfig("tiny", tok.vocabSize), 2)
      const progress: Array<[number, number]> = []
      let tokens = 0
      const result = await Effect.runPromise(
        warmStart({
          env: doubling, model, tokenizer: tok, steps, batchSize: 4, lr: 1e-3, seed: 0, demonstrations: list, evalTasks: 0,
          onProgress: (p) => {
            progress.push([p.step, p.steps])
            tokens = p.tokens
          },
        }),
      )
      // The tokens reported cover both phases.
      expect(result.tokens).toBe(tokens)
      result.optimizer.dispose()
      const weights = model.trainableVariables.map((v) => Array.from(v.dataSync()))
      model.dispose()
      return { result, progress, weights }
    }
    const before = tf.memory().numTensors
    const mixed = await run([...drills, ...demonstrations], 3)
    expect(tf.memory().numTensors).toBe(before)
    // 40 drills: two drill updates of up to 32, then 3 updates over the 16 task demos and 6 drills.
    expect(mixed.result.drillSteps).toBe(2)
    expect(mixed.result.steps).toBe(3)
    expect(mixed.result.demonstrations).toBe(16 + 6)
    expect(mixed.progress).toEqual([1, 2, 3, 4, 5].map((s) => [s, 5]))
    expect(mixed.result.losses.length).toBe(3)
    const plain = await run(demonstrations, 3)
    expect(plain.result.drillSteps).toBe(0)
    expect(plain.progress.map(([s]) => s)).toEqual([1, 2, 3])
    expect(mixed.weights).not.toEqual(plain.weights)
    const none = await run([...drills, ...demonstrations], 0)
    expect(none.result.drillSteps).toBe(0)
    expect(none.progress).toEqual([])
  }, 120_000)

  test("rejects bad step and batch counts", async () => {
    const model = new TransformerModel(modelConfig("tiny", tok.vocabSize), 1)
    const base = { env: doubling, model, tokenizer: tok, lr: 1e-3, seed: 0, demonstrations }
    await expect(Effect.runPromise(warmStart({ ...base, steps: -1, batchSize: 4 }))).rejects.toThrow(/warmstartSteps/)
    await expect(Effect.runPromise(warmStart({ ...base, steps: 1, batchSize: 0 }))).rejects.toThrow(/warmstartBatchSize/)
    model.dispose()
  })
})

/** A three-step corridor: the expert walks "north", "east", "north"; any action moves on, only the expert's are right. */
const corridor: EnvironmentPackage<Task> = {
  ...(doubling as unknown as EnvironmentPackage<Task>),
  name: "corridor",
  kind: "multi-turn",
  maxSteps: 3,
  make: () => {
    let at = 0
    return {
      reset: () => Effect.sync(() => ((at = 0), { observation: "at 0", info: { won: false, actionValid: true } })),
      step: () =>
        Effect.sync(() => {
          at++
          return { observation: `at ${at}`, reward: 0, terminated: at === 3, truncated: false, info: { won: at === 3, actionValid: true } }
        }),
    }
  },
  renderPrompt: (context) => `${context.task.text} ${context.observation}`,
  parseAction: (text) => ({ action: text.trim(), valid: text.trim() !== "" }),
  expert: () => ["north", "east", "north"],
}

/** Answers by the position in the prompt: right at 0 (in other case and spacing), wrong at 1, right at 2. */
const walker = {
  name: "walker",
  generate: (requests: ReadonlyArray<GenerationRequest>) =>
    Effect.succeed(
      requests.map((r) => {
        const text = r.prompt.endsWith("at 0") ? "  NORTH " : r.prompt.endsWith("at 1") ? "west" : "north"
        return { text, tokenIds: [], logprobs: [], finishReason: "stop" as const }
      }),
    ),
} as unknown as Policy

describe("expertStepAccuracy", () => {
  test("counts the expert's steps the policy matches from the expert's states, per turn, up to case and spacing", () => {
    const tasks = Effect.runSync(corridor.tasks("test", { seed: 0, count: 2 }))
    const result = Effect.runSync(expertStepAccuracy(walker, corridor, tasks))
    expect(result).toEqual({ overall: 4 / 6, byTurn: [[2, 2], [0, 2], [2, 2]] })
  })

  test("is undefined for single-turn environments and environments without an expert", () => {
    const tasks = Effect.runSync(doubling.tasks("test", { seed: 0, count: 2 }))
    expect(Effect.runSync(expertStepAccuracy(walker, doubling as unknown as EnvironmentPackage<Task>, tasks))).toBeUndefined()
    const { expert: _, ...noExpert } = corridor
    expect(Effect.runSync(expertStepAccuracy(walker, noExpert, tasks))).toBeUndefined()
  })
})
