import * as tf from "@tensorflow/tfjs-core"
import type { AlgorithmConfig, Role, TrainingSample, UpdateStats } from "@icrl/core"
import { aggregationWeights, scoringTemperature } from "@icrl/core"
import { ATTENTION_AREA_BUDGET, microBatches, summedGradients } from "./gradients.ts"
import { icrlLoss } from "./icrlLoss.ts"
import { trainingLimits } from "./memoryBudget.ts"
import type { TransformerModel } from "./model.ts"
import type { AdamW } from "./optimizer.ts"
import { completionLogprobs, type ScoringExample } from "./scoring.ts"
import { bannedIds, encodePrompt, type Tokenizer } from "./tokenizer.ts"

export interface PolicyUpdateOptions {
  /** Most tokens (prompt + completion, padded) in one micro-batch (default 4096, lowered for large models); bounds memory. */
  readonly microBatchTokens?: number
  /** Frozen reference model for the KL term (required when use_kl_loss). */
  readonly reference?: TransformerModel
}

const padRows = (rows: ReadonlyArray<ReadonlyArray<number>>, width: number): Array<Array<number>> =>
  rows.map((r) => [...r, ...new Array<number>(Math.max(0, width - r.length)).fill(0)].slice(0, width))

/** Gradients of the policy loss over a batch, before the optimizer (the caller disposes `grads`). */
export interface PolicyGradients {
  /** Summed over micro-batches, in variable order; empty when the batch has no tokens. */
  readonly grads: ReadonlyArray<tf.Tensor>
  readonly loss: number
  readonly clipFraction: number
  readonly meanCalibrationWeight: number
  readonly samplerWeightMean: number
  readonly samplerWeightClipFraction: number
  readonly lossWeightByRole: UpdateStats["lossWeightByRole"]
  readonly kl: number
  readonly tokens: number
}

/**
 * The gradient of the ICRL loss (DESIGN.md §4 step 7) over every sample, computed in
 * micro-batches whose gradients are summed (aggregation weights are computed over the whole
 * batch, per role under role_loss_agg `per-role-sum`, so the result equals one big batch).
 * Tokens are scored at the rollout temperature (core `scoringTemperature`), without the ids the
 * sampler never draws, so the trainer's log-probs match the sampler's.
 *
 * @example
 * const { grads } = policyGradients(model, tokenizer, samples, config)
 */
export const policyGradients = (
  model: TransformerModel,
  tokenizer: Tokenizer,
  samples: ReadonlyArray<TrainingSample>,
  config: AlgorithmConfig,
  options: PolicyUpdateOptions = {},
): PolicyGradients => {
  const limit = model.config.maxSeqLen - 1
  const examples: Array<ScoringExample> = samples.map((s) => ({
    promptIds: encodePrompt(tokenizer, s.prompt),
    completionIds: s.tokenIds.slice(0, limit),
  }))
  const lengths = examples.map((e) => e.completionIds.length)
  const tokens = lengths.reduce((a, b) => a + b, 0)
  if (samples.length === 0 || tokens === 0) {
    return { grads: [], loss: 0, clipFraction: 0, meanCalibrationWeight: 0, samplerWeightMean: 0, samplerWeightClipFraction: 0, lossWeightByRole: {}, kl: 0, tokens: 0 }
  }
  if (config.use_kl_loss && options.reference === undefined) throw new Error("policyUpdate: use_kl_loss needs a reference model")
  const roles = config.role_loss_agg === "per-role-sum" ? samples.map((s) => s.role) : undefined
  const aggregation = aggregationWeights(lengths, config.loss_agg_mode, config.loss_scale_factor, roles)
  const lossWeightByRole: Partial<Record<Role, number>> = {}
  samples.forEach((s, i) => (lossWeightByRole[s.role] = (lossWeightByRole[s.role] ?? 0) + aggregation[i]!.reduce((a, b) => a + b, 0)))
  const scoring = { temperature: scoringTemperature(config.temperature), banned: bannedIds(tokenizer) }
  const shaped = (i: number) => config.calibration === "shaping" && samples[i]!.transferred
  const limits = trainingLimits(model.config, options.microBatchTokens ?? 4096, ATTENTION_AREA_BUDGET)
  const batches = microBatches(
    examples.map((e) => Math.min(limit, e.promptIds.length + e.completionIds.length)),
    limits.tokens,
    limits.attentionArea,
  )
  let clippedTokens = 0
  let ppoTokens = 0
  let weightSum = 0
  let transferredTokens = 0
  let samplerWeightSum = 0
  let samplerClipped = 0
  let klSum = 0
  const lossFns = batches.map((rows) => () => {
    const batch = rows.map((i) => examples[i]!)
    const width = Math.max(...rows.map((i) => lengths[i]!), 1)
    const transferred = tf.tensor1d(rows.map((i) => (samples[i]!.transferred ? 1 : 0)))
    const { logprobs, mask } = completionLogprobs(model, batch, scoring)
    const out = icrlLoss(
      {
        logprobs,
        samplerLogprobs: tf.tensor2d(padRows(rows.map((i) => samples[i]!.oldLogprobs.slice(0, limit)), width)),
        mask,
        advantages: tf.tensor1d(rows.map((i) => samples[i]!.advantage)),
        transferred,
        lengths: rows.map((i) => lengths[i]!),
        aggregation: padRows(rows.map((i) => aggregation[i]!), width),
        ...(options.reference === undefined ? {} : { refLogprobs: completionLogprobs(options.reference, batch, scoring).logprobs }),
      },
      config,
    )
    const transferredMask = tf.mul(mask, tf.reshape(transferred, [rows.length, 1]))
    const onPolicyMask = tf.sub(mask, transferredMask)
    samplerWeightSum += tf.sum(tf.mul(out.samplerWeights, onPolicyMask)).dataSync()[0]!
    samplerClipped += tf.sum(tf.mul(out.samplerClipped, onPolicyMask)).dataSync()[0]!
    const tTokens = rows.filter((i) => samples[i]!.transferred).reduce((a, i) => a + lengths[i]!, 0)
    transferredTokens += tTokens
    ppoTokens += rows.filter((i) => !shaped(i)).reduce((a, i) => a + lengths[i]!, 0)
    clippedTokens += tf.sum(out.clipped).dataSync()[0]!
    weightSum += tf.sum(tf.mul(out.weights, transferredMask)).dataSync()[0]!
    klSum += tf.sum(out.kl).dataSync()[0]!
    return out.loss
  })
  const { grads, loss } = summedGradients(model.trainableVariables, lossFns)
  return {
    grads,
    loss,
    clipFraction: ppoTokens === 0 ? 0 : clippedTokens / ppoTokens,
    meanCalibrationWeight: transferredTokens === 0 ? 0 : weightSum / transferredTokens,
    samplerWeightMean: tokens === transferredTokens ? 0 : samplerWeightSum / (tokens - transferredTokens),
    samplerWeightClipFraction: tokens === transferredTokens ? 0 : samplerClipped / (tokens - transferredTokens),
    lossWeightByRole,
    kl: klSum / tokens,
    tokens,
  }
}

/**
 * One policy-gradient update on a batch of samples: {@link policyGradients}, then one AdamW
 * step. A non-finite loss or gradient skips the update and reports `skipped`.
 *
 * @example
 * const stats = policyUpdate(model, tokenizer, optimizer, samples, config)
 */
export const policyUpdate = (
  model: TransformerModel,
  tokenizer: Tokenizer,
  optimizer: AdamW,
  samples: ReadonlyArray<TrainingSample>,
  config: AlgorithmConfig,
  options: PolicyUpdateOptions = {},
): UpdateStats => {
  const { grads, ...stats } = policyGradients(model, tokenizer, samples, config, options)
  if (stats.tokens === 0) return { ...stats, gradNorm: 0, skipped: false }
  const applied = optimizer.applyGradients(grads, stats.loss)
  tf.dispose([...grads])
  return { ...stats, gradNorm: applied.gradNorm, skipped: applied.skipped }
}
