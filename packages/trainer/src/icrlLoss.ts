import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-core/dist/register_all_gradients.js"
import { aggregationWeights, MAX_LOG_RATIO, K3_CLAMP, type AlgorithmConfig, type TokenLossConfig } from "@icrl/core"

/** The knobs of the loss (a subset of AlgorithmConfig). */
export type LossConfig = TokenLossConfig & Pick<AlgorithmConfig, "loss_agg_mode" | "loss_scale_factor">

/** Per-token inputs of the policy-gradient loss, all [N, T] except `advantages` and `transferred` ([N]). */
export interface LossInputs {
  /**
   * log pi_theta of each token under the prompt it is trained under, at the rollout's scoring
   * temperature (differentiable). Its detached value is pi_old: one update per rollout batch.
   */
  readonly logprobs: tf.Tensor2D
  /** The sampler's log-probs, under the prompt each token was sampled from. */
  readonly samplerLogprobs: tf.Tensor2D
  /** 1 on real tokens, 0 on padding. */
  readonly mask: tf.Tensor2D
  readonly advantages: tf.Tensor1D
  /** 1 for transferred refinements (trained under the critique-free prompt), 0 for on-policy samples. */
  readonly transferred: tf.Tensor1D
  /** Reference-policy log-probs for the KL term (required when use_kl_loss). */
  readonly refLogprobs?: tf.Tensor2D
  /** Real token counts per row (the mask's row sums), for the aggregation weights. */
  readonly lengths: ReadonlyArray<number>
  /**
   * Per-token aggregation weights [N][T] computed over a larger batch this one is a micro-batch
   * of (core `aggregationWeights`); without it they are computed from `lengths`, pooled.
   */
  readonly aggregation?: ReadonlyArray<ReadonlyArray<number>>
}

export interface LossOutputs {
  readonly loss: tf.Scalar
  /** Per-token loss [N, T] (zero on padding). */
  readonly tokenLoss: tf.Tensor2D
  /** Importance weights [N, T] (core `sampleWeights`; 0 on padding). */
  readonly weights: tf.Tensor2D
  /** 1 where a token's PPO ratio was clipped. */
  readonly clipped: tf.Tensor2D
  /** Per-token KL estimate (zeros when the KL term is off). */
  readonly kl: tf.Tensor2D
  /**
   * The sampler/trainer correction of every token, min(exp(pi_old - pi_sampler), C) (0 on
   * padding): what on-policy tokens are weighted by under calibration_scope `all`, reported
   * whatever the scope.
   */
  readonly samplerWeights: tf.Tensor2D
  /** 1 where exp(pi_old - pi_sampler) exceeds C, so the correction is truncated. */
  readonly samplerClipped: tf.Tensor2D
}

/** Identity in the forward pass, zero gradient in the backward pass (tfjs-core has no stopGradient op). */
export const stopGradient = tf.customGrad((...args) => {
  const x = args[0] as tf.Tensor
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }
}) as <T extends tf.Tensor>(x: T) => T

/** Detached importance weights of transferred rows, the tensor twin of core's calibrationWeights. */
const calibration = (diff: tf.Tensor2D, old: tf.Tensor2D, mask: tf.Tensor2D, config: LossConfig): tf.Tensor2D => {
  const cap = config.calibration_cap
  switch (config.calibration) {
    case "token-tis":
      return tf.minimum(tf.exp(diff), cap)
    case "seq-geo": {
      const count = tf.maximum(tf.sum(mask, 1, true), 1)
      const meanDiff = tf.clipByValue(tf.div(tf.sum(tf.mul(diff, mask), 1, true), count), -40, 40)
      return tf.mul(tf.minimum(tf.exp(meanDiff), cap), tf.onesLike(diff)) as tf.Tensor2D
    }
    case "shaping":
      return shapingValue(old, config.shaping_gamma)
    case "none":
      return tf.onesLike(diff) as tf.Tensor2D
  }
}

/** f(p) = p / (p + gamma) at p = exp(logp), the twin of core's shapingValue (differentiable). */
const shapingValue = (logp: tf.Tensor2D, gamma: number): tf.Tensor2D => {
  const p = tf.exp(tf.minimum(tf.clipByValue(logp, -40, 40), 0))
  return tf.div(p, tf.add(p, gamma)) as tf.Tensor2D
}

const klTerm = (logp: tf.Tensor2D, ref: tf.Tensor2D, kind: LossConfig["kl_loss_type"]): tf.Tensor2D => {
  const d = tf.clipByValue(tf.sub(ref, logp), -20, 20)
  switch (kind) {
    case "k1":
      return tf.neg(d) as tf.Tensor2D
    case "k2":
      return tf.mul(tf.square(d), 0.5) as tf.Tensor2D
    case "k3":
      return tf.clipByValue(tf.sub(tf.sub(tf.exp(d), 1), d), -K3_CLAMP, K3_CLAMP)
  }
}

/**
 * The loss of DESIGN.md §4 step 7 as TensorFlow.js ops, the twin of core's tokenLosses: every
 * token carries w_t * PPO-clip(logp_t, old_t, A) with old_t = logp_t detached (one update per
 * rollout batch) and w_t the detached importance weight (core sampleWeights); under
 * calibration_scope `transferred` on-policy tokens instead take the plain PPO-clip against the
 * sampler's log-prob; transferred tokens under `shaping` take -A * p / (p + gamma) with the
 * gradient through p; plus an optional KL penalty; reduced with the given aggregation weights.
 * A property test checks it against the core reference.
 *
 * @example
 * const { loss } = icrlLoss(inputs, config)
 */
export const icrlLoss = (inputs: LossInputs, config: LossConfig): LossOutputs => {
  const { logprobs, samplerLogprobs, mask } = inputs
  const [n, t] = logprobs.shape
  const adv = tf.reshape(inputs.advantages, [n, 1])
  const transferred = tf.reshape(inputs.transferred, [n, 1])
  const onPolicy = tf.sub(1, transferred)
  const old = stopGradient(logprobs)
  // Importance weights (detached: computed from old and the sampler's log-probs only).
  const diff = tf.clipByValue(tf.sub(old, samplerLogprobs), -40, 40) as tf.Tensor2D
  const samplerWeight = tf.minimum(tf.exp(diff), config.calibration_cap)
  const onPolicyWeight = config.calibration_scope === "all" && config.calibration !== "none" ? samplerWeight : tf.onesLike(diff)
  const w = tf.add(tf.mul(transferred, calibration(diff, old, mask, config)), tf.mul(onPolicy, onPolicyWeight))
  // PPO clip against the trainer's old log-probs (or, for on-policy rows under scope `transferred`, the sampler's).
  const ratioBase = config.calibration_scope === "all" ? old : tf.add(tf.mul(transferred, old), tf.mul(onPolicy, samplerLogprobs))
  const ratio = tf.exp(tf.clipByValue(tf.sub(logprobs, ratioBase), -MAX_LOG_RATIO, MAX_LOG_RATIO))
  const unclipped = tf.mul(tf.neg(adv), ratio)
  const clippedLoss = tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - config.clip_ratio_low, 1 + config.clip_ratio_high))
  let ppo: tf.Tensor = tf.maximum(unclipped, clippedLoss)
  let isClipped: tf.Tensor = tf.cast(tf.greater(clippedLoss, unclipped), "float32")
  if (config.use_dual_clip) {
    const bound = tf.mul(tf.neg(adv), config.clip_ratio_c)
    const negative = tf.cast(tf.less(adv, 0), "float32")
    const dualActive = tf.mul(negative, tf.cast(tf.less(bound, ppo), "float32"))
    ppo = tf.add(tf.mul(dualActive, tf.mul(bound, tf.onesLike(ppo))), tf.mul(tf.sub(1, dualActive), ppo))
    isClipped = tf.maximum(isClipped, dualActive)
  }
  let tokenLoss: tf.Tensor = tf.mul(w, ppo)
  if (config.calibration === "shaping") {
    // Transferred rows: -A * f(p), differentiable through p (no ratio, no clip).
    const shaped = tf.mul(tf.neg(adv), shapingValue(logprobs, config.shaping_gamma))
    tokenLoss = tf.add(tf.mul(onPolicy, tokenLoss), tf.mul(transferred, shaped))
    isClipped = tf.mul(isClipped, onPolicy)
  }
  let kl: tf.Tensor = tf.zerosLike(logprobs)
  if (config.use_kl_loss) {
    if (inputs.refLogprobs === undefined) throw new Error("icrlLoss: use_kl_loss needs refLogprobs")
    kl = klTerm(logprobs, inputs.refLogprobs, config.kl_loss_type)
    tokenLoss = tf.add(tokenLoss, tf.mul(kl, config.kl_loss_coef))
  }
  tokenLoss = tf.mul(tokenLoss, mask)
  const aggregation = inputs.aggregation ?? aggregationWeights(inputs.lengths, config.loss_agg_mode, config.loss_scale_factor)
  const aggW = tf.tensor2d(aggregation.map((row) => [...row, ...new Array<number>(t - row.length).fill(0)]), [n, t])
  const loss = tf.sum(tf.mul(tokenLoss, aggW)) as tf.Scalar
  return {
    loss,
    tokenLoss: tokenLoss as tf.Tensor2D,
    weights: tf.mul(w, mask) as tf.Tensor2D,
    clipped: tf.mul(isClipped, mask) as tf.Tensor2D,
    kl: tf.mul(kl, mask) as tf.Tensor2D,
    samplerWeights: tf.mul(samplerWeight, mask) as tf.Tensor2D,
    samplerClipped: tf.mul(tf.cast(tf.greater(diff, Math.log(config.calibration_cap)), "float32"), mask) as tf.Tensor2D,
  }
}
