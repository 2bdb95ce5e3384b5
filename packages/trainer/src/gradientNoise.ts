import * as tf from "@tensorflow/tfjs-core"
import { collectTrainingBatch, ConfigError, isDrill, median, type AlgorithmConfig, type DataError, type EnvironmentPackage, type EpisodeError, type Task } from "@icrl/core"
import { Effect } from "effect"
import { summedGradients } from "./gradients.ts"
import type { TransformerModel } from "./model.ts"
import { LocalPolicy } from "./policy.ts"
import { policyGradients } from "./policyUpdate.ts"
import type { Tokenizer } from "./tokenizer.ts"
import { demonstrationExample, sftLoss, warmStartDemonstrations } from "./warmstart.ts"

/** Cosines between the gradients of independent batches, and their norms. */
export interface GradientAgreement {
  /** Cosine similarity of every pair of batches (i < j, row-major). */
  readonly cosines: ReadonlyArray<number>
  readonly medianCosine: number
  readonly gradNorms: ReadonlyArray<number>
}

export interface GradientNoiseReport {
  readonly rl: GradientAgreement & { readonly solverAccuracy: ReadonlyArray<number> }
  readonly supervised: GradientAgreement
}

/** Euclidean norm of a flattened gradient. */
const norm = (a: Float64Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0))

/**
 * Pairwise cosine similarities of vectors (0 where either is all zeros), their median and the
 * vectors' norms.
 *
 * @example
 * gradientAgreement([new Float64Array([1, 0]), new Float64Array([1, 1])]).cosines // [0.7071...]
 */
export const gradientAgreement = (vectors: ReadonlyArray<Float64Array>): GradientAgreement => {
  const norms = vectors.map(norm)
  const cosines: Array<number> = []
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      const a = vectors[i]!
      const b = vectors[j]!
      if (a.length !== b.length) throw new RangeError(`vectors ${i} and ${j} differ in length (${a.length} vs ${b.length})`)
      let dot = 0
      for (let k = 0; k < a.length; k++) dot += a[k]! * b[k]!
      const d = norms[i]! * norms[j]!
      cosines.push(d === 0 ? 0 : dot / d)
    }
  }
  return { cosines, medianCosine: median(cosines), gradNorms: norms }
}

/** Concatenates gradients into one vector and releases them. */
const flatten = (grads: ReadonlyArray<tf.Tensor>): Float64Array => {
  const out = new Float64Array(grads.reduce((n, g) => n + g.size, 0))
  let at = 0
  for (const g of grads) {
    out.set(g.dataSync(), at)
    at += g.size
  }
  tf.dispose([...grads])
  return out
}

export interface GradientNoiseOptions {
  readonly env: EnvironmentPackage<Task>
  readonly model: TransformerModel
  readonly tokenizer: Tokenizer
  /** Rollout knobs of the RL batches (algorithm, group size, tasks per batch, temperature, seed). */
  readonly config: AlgorithmConfig
  /** Independent batches of each kind (at least 2). */
  readonly batches: number
  /** Solver demonstrations per supervised batch. */
  readonly demonstrations: number
  readonly envOptions?: Readonly<Record<string, string>>
}

/**
 * How much of a policy-gradient step is signal: gradients of the RL loss on `batches`
 * independent batches of fresh training tasks, and of the supervised loss on as many batches of
 * the environment's solver demonstrations, all at the same weights, compared pairwise by cosine.
 * A direction shared across batches is one the task distribution agrees on; a cosine near 0
 * means each step is mostly that batch's noise. The weights are not changed.
 *
 * @example
 * const report = yield* measureGradientNoise({ env, model, tokenizer, config, batches: 4, demonstrations: 16 })
 * report.rl.medianCosine
 */
export const measureGradientNoise = (
  options: GradientNoiseOptions,
): Effect.Effect<GradientNoiseReport, EpisodeError | ConfigError | DataError> =>
  Effect.gen(function* () {
    const { env, model, tokenizer, config, batches, demonstrations } = options
    if (!Number.isInteger(batches) || batches < 2) return yield* new ConfigError({ field: "batches", detail: `must be an integer of at least 2, got ${batches}` })
    const taskOptions = options.envOptions === undefined ? {} : { options: options.envOptions }
    const policy = new LocalPolicy(model, tokenizer, { maxBatchSize: 64 })
    const rl: Array<Float64Array> = []
    const accuracy: Array<number> = []
    for (let k = 0; k < batches; k++) {
      const tasks = yield* env.tasks("train", { seed: config.seed, count: config.train_batch_size, offset: k * config.train_batch_size, ...taskOptions })
      const batch = yield* collectTrainingBatch(env, policy, tasks, config, k + 1)
      accuracy.push(batch.metrics.critiqueFreeAccuracy)
      const { grads, tokens } = policyGradients(model, tokenizer, batch.samples, config)
      rl.push(tokens === 0 ? new Float64Array(model.trainableVariables.reduce((n, v) => n + v.size, 0)) : flatten(grads))
    }
    const offered = yield* warmStartDemonstrations(env, config.seed + 1, demonstrations * batches * 4, options.envOptions)
    const demos = offered.filter((d) => d.role === "solver" && !isDrill(d))
    if (demos.length < demonstrations * batches) {
      return yield* new ConfigError({
        field: "demos",
        detail: `environment ${env.name} gave ${demos.length} solver demonstrations, ${demonstrations * batches} are needed`,
      })
    }
    const supervised: Array<Float64Array> = []
    for (let k = 0; k < batches; k++) {
      const part = demos.slice(k * demonstrations, (k + 1) * demonstrations).map((d) => demonstrationExample(tokenizer, d))
      supervised.push(flatten(summedGradients(model.trainableVariables, [() => sftLoss(model, part)]).grads))
    }
    return { rl: { ...gradientAgreement(rl), solverAccuracy: accuracy }, supervised: gradientAgreement(supervised) }
  })
