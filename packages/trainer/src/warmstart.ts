import * as tf from "@tensorflow/tfjs-core"
import { ConfigError, isDrill, Rng, type DataError, type Demonstration, type EnvironmentPackage, type EpisodeError } from "@icrl/core"
import { Effect, Exit } from "effect"
import { createHash } from "node:crypto"
import { evaluateRoles, type RoleEvaluation } from "./episodes.ts"
import type { TransformerModel } from "./model.ts"
import { ATTENTION_AREA_BUDGET, microBatches, summedGradients } from "./gradients.ts"
import { trainingLimits } from "./memoryBudget.ts"
import { AdamW, type OptimizerConfig } from "./optimizer.ts"
import { completionLogprobs, type ScoringExample } from "./scoring.ts"
import { encodePrompt, type Tokenizer } from "./tokenizer.ts"

/**
 * The demonstrations an environment offers for a warm start (none when it offers no warm start).
 *
 * @example
 * const demos = yield* warmStartDemonstrations(env, 0, 2048, { difficulty: "1-2" })
 */
export const warmStartDemonstrations = (
  env: EnvironmentPackage,
  seed: number,
  count: number,
  envOptions?: Readonly<Record<string, string>>,
): Effect.Effect<ReadonlyArray<Demonstration>, ConfigError | DataError | EpisodeError> =>
  env.warmStart === undefined ? Effect.succeed([]) : env.warmStart({ seed, count, ...(envOptions === undefined ? {} : { options: envOptions }) })

/**
 * A digest of demonstrations (role, prompt and completion of each, in order): it changes whenever
 * an environment's code changes what a warm start would train on.
 *
 * @example
 * demonstrationsDigest([{ role: "solver", prompt: "1+1=", completion: "2" }]).length // 64
 */
export const demonstrationsDigest = (demonstrations: ReadonlyArray<Demonstration>): string => {
  const hash = createHash("sha256")
  for (const d of demonstrations) hash.update(`${d.role}\0${d.prompt}\0${d.completion}\0${isDrill(d) ? "drill\0" : ""}`)
  return hash.digest("hex")
}

/** Progress of the supervised warm start, reported after every update. */
export interface WarmStartProgress {
  readonly step: number
  readonly steps: number
  readonly loss: number
  readonly lr: number
  /** Completion tokens trained on so far. */
  readonly tokens: number
  readonly elapsedMs: number
}

export interface WarmStartOptions {
  readonly env: EnvironmentPackage
  readonly model: TransformerModel
  readonly tokenizer: Tokenizer
  readonly steps: number
  /** Demonstrations per update. */
  readonly batchSize: number
  readonly lr: number
  readonly seed: number
  /** Train on these instead of `env.warmStart(...)`. */
  readonly demonstrations?: ReadonlyArray<Demonstration>
  /** The `count` asked of `env.warmStart` (default 2048). */
  readonly demonstrationCount?: number
  /** Environment-specific task options (difficulty, data path, ...) for demonstrations and evaluation. */
  readonly envOptions?: Readonly<Record<string, string>>
  /** Held-out test tasks for the closing evaluation (default 64; 0 skips it). */
  readonly evalTasks?: number
  /** Overrides of the optimizer defaults (warmup 5% of the steps, cosine to 10%). */
  readonly optimizer?: Partial<OptimizerConfig>
  readonly onProgress?: (progress: WarmStartProgress) => void
  /**
   * Most padded tokens per micro-batch (default 2400, lowered for large models); an update sums
   * its micro-batches' gradients. Micro-batches take rows sorted by length, so a small budget also pads less: on
   * the math mix (solver demos ~54 tokens, refiner demos ~140), 60 steps of 32 took a median
   * 39 s at 2400 against 55 s at 8192 (one batch per update), with the same loss.
   */
  readonly microBatchTokens?: number
}

export interface WarmStartResult {
  readonly steps: number
  /** Updates of the copy-drill phase that ran before the `steps` (0 without drills). */
  readonly drillSteps: number
  readonly demonstrations: number
  /** Mean loss (nats per completion token) of the last 10 updates. */
  readonly finalLoss: number
  readonly losses: ReadonlyArray<number>
  readonly skippedSteps: number
  readonly tokens: number
  readonly elapsedMs: number
  readonly tokensPerSecond: number
  /** Held-out solver / critique / refinement accuracy, absent when `evalTasks` is 0. */
  readonly evaluation?: RoleEvaluation
  /**
   * The optimizer after the last update, holding its moments: RL continues from them (see
   * `rlOptimizer`), and `saveCheckpoint` stores them with the model. The caller disposes it.
   */
  readonly optimizer: AdamW
}

/**
 * One epoch of batches: a shuffled order cut into consecutive batches. Batches are not
 * grouped by length: on arithmetic, length tracks the kind of problem, and batches of one
 * kind (all one-digit sums, say) trained a model that ignored the problem's digits
 * (1-2% held-out accuracy against 12% with plain shuffling, same steps). Deterministic in `rng`.
 */
export const epochBatches = <A extends ScoringExample>(examples: ReadonlyArray<A>, batchSize: number, rng: Rng): Array<Array<A>> => {
  const order = rng.shuffle(examples)
  const batches: Array<Array<A>> = []
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize))
  return batches
}

/** Demonstrations per update in the copy-drill phase (drills are short: about 60 bytes). */
export const drillBatchSize = 32

/**
 * How the warm start uses copy drills (demonstrations marked `drill`): first one pass over all
 * of them, `drillBatchSize` per update; then, among the task demonstrations, the first
 * third-as-many drills (a quarter of the mixed set), so that the copy survives the task updates.
 *
 * @example
 * drillPlan(3200, 9000) // { steps: 100, mixed: 3000 }
 */
export const drillPlan = (drills: number, tasks: number): { readonly steps: number; readonly mixed: number } => ({
  steps: Math.ceil(drills / drillBatchSize),
  mixed: Math.min(drills, Math.ceil(tasks / 3)),
})

/** The SFT example of a demonstration: its completion followed by end-of-sequence. */
export const demonstrationExample = (tokenizer: Tokenizer, demo: Demonstration): ScoringExample => ({
  promptIds: encodePrompt(tokenizer, demo.prompt),
  completionIds: [...tokenizer.encode(demo.completion), tokenizer.eosId],
})

/**
 * Mean negative log-likelihood per completion token of a batch (the SFT loss; prompt tokens
 * carry no loss).
 *
 * @example
 * const loss = sftLoss(model, [demonstrationExample(tok, demo)])
 */
export const sftLoss = (model: TransformerModel, batch: ReadonlyArray<ScoringExample>): tf.Scalar =>
  tf.tidy(() => {
    const { logprobs, mask } = completionLogprobs(model, batch)
    return tf.div(tf.neg(tf.sum(logprobs)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar
  })

/**
 * Supervised fine-tuning of all three roles on an environment's warm-start demonstrations
 * (solver demos, critiques, refinements), loss on completion tokens only, then a held-out
 * evaluation of solver accuracy, critique accuracy and refined accuracy. Copy drills among the
 * demonstrations are trained first, with their own optimizer at the same peak lr, and then
 * mixed in ({@link drillPlan}); `steps` counts the updates after them.
 *
 * @example
 * const result = yield* warmStart({ env, model, tokenizer, steps: 300, batchSize: 32, lr: 2e-3, seed: 0 })
 * result.evaluation?.solverAccuracy
 */
export const warmStart = (options: WarmStartOptions): Effect.Effect<WarmStartResult, ConfigError | DataError | EpisodeError> =>
  Effect.gen(function* () {
    const { env, model, tokenizer, steps, batchSize, seed } = options
    if (!Number.isInteger(steps) || steps < 0) return yield* new ConfigError({ field: "warmstartSteps", detail: `must be a non-negative integer, got ${steps}` })
    if (!Number.isInteger(batchSize) || batchSize < 1) return yield* new ConfigError({ field: "warmstartBatchSize", detail: `must be a positive integer, got ${batchSize}` })
    const demos = options.demonstrations ?? (yield* warmStartDemonstrations(env, seed, options.demonstrationCount ?? 2048, options.envOptions))
    const limit = model.config.maxSeqLen - 1
    const toExamples = (list: ReadonlyArray<Demonstration>) => list.map((d) => demonstrationExample(tokenizer, d)).filter((ex) => ex.completionIds.length <= limit)
    const taskExamples = toExamples(demos.filter((d) => !isDrill(d)))
    const drills = steps > 0 ? toExamples(demos.filter(isDrill)) : []
    const plan = drillPlan(drills.length, taskExamples.length)
    const examples = [...taskExamples, ...drills.slice(0, plan.mixed)]
    if (steps > 0 && taskExamples.length === 0) {
      return yield* new ConfigError({ field: "warmstartSteps", detail: `environment ${env.name} provides no warm-start demonstrations that fit the model` })
    }
    const optimizerFor = (updates: number) =>
      new AdamW(model.trainableVariables, {
        lr: options.lr,
        warmupSteps: Math.floor(updates * 0.05),
        totalSteps: updates,
        minLrRatio: 0.1,
        weightDecay: 0.01,
        maxGradNorm: 1,
        ...options.optimizer,
      })
    const rng = new Rng(seed)
    const started = performance.now()
    let drillTokens = 0
    const report = (offset: number) => (p: UpdateProgress) =>
      options.onProgress?.({ ...p, step: offset + p.step, steps: plan.steps + steps, tokens: drillTokens + p.tokens, elapsedMs: performance.now() - started })
    if (plan.steps > 0) {
      const drillOptimizer = optimizerFor(plan.steps)
      drillTokens = (yield* Effect.ensuring(
        supervisedUpdates(options, drills, drillBatchSize, plan.steps, drillOptimizer, rng, report(0)),
        Effect.sync(() => drillOptimizer.dispose()),
      )).tokens
    }
    const optimizer = optimizerFor(steps)
    // The optimizer is the caller's on success; a failure or interruption disposes it.
    return yield* Effect.onExit(
      Effect.gen(function* () {
        const updates = yield* supervisedUpdates(options, examples, batchSize, steps, optimizer, rng, report(plan.steps))
        // Time and tokens cover both phases.
        const total = { ...updates, tokens: drillTokens + updates.tokens, elapsedMs: performance.now() - started }
        return yield* closingEvaluation(options, examples.length, plan.steps, total, optimizer)
      }),
      (exit) => Effect.sync(() => (Exit.isSuccess(exit) ? undefined : optimizer.dispose())),
    )
  })

type UpdateProgress = Omit<WarmStartProgress, "steps" | "elapsedMs">

interface Updates {
  readonly losses: ReadonlyArray<number>
  readonly tokens: number
}

/** `steps` supervised updates of `batchSize` examples each, epochs drawn from `rng`. */
const supervisedUpdates = (
  options: WarmStartOptions,
  examples: ReadonlyArray<ScoringExample>,
  batchSize: number,
  steps: number,
  optimizer: AdamW,
  rng: Rng,
  onStep: (progress: UpdateProgress) => void,
): Effect.Effect<Updates> =>
  Effect.gen(function* () {
    const { model } = options
    const limits = trainingLimits(model.config, options.microBatchTokens ?? 2400, ATTENTION_AREA_BUDGET)
    let queue: Array<Array<ScoringExample>> = []
    const losses: Array<number> = []
    let tokens = 0
    for (let step = 1; step <= steps; step++) {
      if (queue.length === 0) queue = epochBatches(examples, Math.min(batchSize, examples.length), rng)
      const batch = queue.shift() as Array<ScoringExample>
      // Micro-batches bound memory on long prompts (agentic prompts run to ~1,000 tokens).
      const batchTokens = batch.reduce((n, ex) => n + ex.completionIds.length, 0)
      const parts = microBatches(batch.map((ex) => ex.promptIds.length + ex.completionIds.length), limits.tokens, limits.attentionArea)
      const { grads, loss } = summedGradients(
        model.trainableVariables,
        parts.map((rows) => () => {
          const part = rows.map((i) => batch[i]!)
          const share = part.reduce((n, ex) => n + ex.completionIds.length, 0) / batchTokens
          return tf.mul(sftLoss(model, part), share) as tf.Scalar
        }),
      )
      const stats = optimizer.applyGradients(grads, loss)
      tf.dispose(grads)
      losses.push(stats.loss)
      tokens += batchTokens
      onStep({ step, loss: stats.loss, lr: stats.lr, tokens })
      if (step % 25 === 0) yield* Effect.yieldNow
    }
    return { losses, tokens }
  })

/** The result of {@link warmStart} after its updates, with the held-out evaluation. */
const closingEvaluation = (
  options: WarmStartOptions,
  demonstrations: number,
  drillSteps: number,
  updates: Updates & { readonly elapsedMs: number },
  optimizer: AdamW,
): Effect.Effect<WarmStartResult, ConfigError | DataError | EpisodeError> =>
  Effect.gen(function* () {
    const { env, model, tokenizer, steps, seed } = options
    const { losses, tokens, elapsedMs } = updates
    const taskOptions = options.envOptions === undefined ? {} : { options: options.envOptions }
    const tail = losses.slice(-10)
    const evalCount = options.evalTasks ?? 64
    const evaluation =
      evalCount > 0 ? yield* evaluateRoles(model, tokenizer, env, yield* env.tasks("test", { seed, count: evalCount, ...taskOptions }), seed) : undefined
    return {
      steps,
      drillSteps,
      demonstrations,
      finalLoss: tail.length === 0 ? Number.NaN : tail.reduce((a, b) => a + b, 0) / tail.length,
      losses,
      skippedSteps: optimizer.skippedCount,
      tokens,
      elapsedMs,
      tokensPerSecond: elapsedMs > 0 ? (tokens / elapsedMs) * 1000 : 0,
      ...(evaluation === undefined ? {} : { evaluation }),
      optimizer,
    }
  })
