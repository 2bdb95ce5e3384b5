import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-core/dist/register_all_gradients.js"
import { aggregationWeights, MAX_LOG_RATIO, K3_CLAMP, type AlgorithmConfig } from "@icrl/core"

/** The knobs of the loss (a subset of AlgorithmConfig). */
export type LossConfig = Pick<
  AlgorithmConfig,
  | "clip_ratio_low"
  | "clip_ratio_high"
  | "clip_ratio_c"
  | "use_dual_clip"
  | "calibration"
  | "calibration_cap"
  | "shaping_gamma"
  | "use_kl_loss"
  | "kl_loss_coef"
  | "kl_loss_type"
  | "loss_agg_mode"
  | "loss_scale_factor"
>

/** Per-token inputs of the policy-gradient loss, all [N, T] except `advantages` and `transferred` ([N]). */
export interface LossInputs {
  /** log pi_theta of each token under the prompt it is trained under (differentiable). */
  readonly logprobs: tf.Tensor2D
  /** Behaviour log-probs: pi_old under the prompt each token was sampled from. */
  readonly oldLogprobs: tf.Tensor2D
  /** 1 on real tokens, 0 on padding. */
  readonly mask: tf.Tensor2D
  readonly advantages: tf.Tensor1D
  /** 1 for transferred refinements (calibrated policy gradient), 0 for on-policy samples (PPO clip). */
  readonly transferred: tf.Tensor1D
  /** Reference-policy log-probs for the KL term (required when use_kl_loss). */
  readonly refLogprobs?: tf.Tensor2D
  /** Real token counts per row (the mask's row sums), for the aggregation weights. */
  readonly lengths: ReadonlyArray<number>
  /**
   * Per-token aggregation weights [N][T] computed over a larger batch this one is a micro-batch
   * of (core `aggregationWeights`); without it they are computed from `lengths`.
   */
  readonly aggregation?: ReadonlyArray<ReadonlyArray<number>>
}

export interface LossOutputs {
  readonly loss: tf.Scalar
  /** Per-token loss [N, T] (zero on padding). */
  readonly tokenLoss: tf.Tensor2D
  /** Calibration weights [N, T] (1 on on-policy rows, 0 on padding). */
  readonly weights: tf.Tensor2D
  /** 1 where an on-policy token's ratio was clipped. */
  readonly clipped: tf.Tensor2D
  /** Per-token KL estimate (zeros when the KL term is off). */
  readonly kl: tf.Tensor2D
}

/** Identity in the forward pass, zero gradient in the backward pass (tfjs-core has no stopGradient op). */
export const stopGradient = tf.customGrad((...args) => {
  const x = args[0] as tf.Tensor
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }
}) as <T extends tf.Tensor>(x: T) => T

/** Detached calibration weights of DESIGN.md §4 step 6, the tensor twin of core's calibrationWeights. */
const calibration = (free: tf.Tensor2D, behaviour: tf.Tensor2D, mask: tf.Tensor2D, config: LossConfig): tf.Tensor2D => {
  const cap = config.calibration_cap
  const diff = tf.clipByValue(tf.sub(free, behaviour), -40, 40)
  switch (config.calibration) {
    case "token-tis":
      return tf.minimum(tf.exp(diff), cap)
    case "seq-geo": {
      const count = tf.maximum(tf.sum(mask, 1, true), 1)
      const meanDiff = tf.clipByValue(tf.div(tf.sum(tf.mul(diff, mask), 1, true), count), -40, 40)
      return tf.mul(tf.minimum(tf.exp(meanDiff), cap), tf.onesLike(diff)) as tf.Tensor2D
    }
    case "shaping": {
      const p = tf.exp(tf.minimum(tf.clipByValue(free, -40, 40), 0))
      return tf.minimum(tf.div(p, tf.add(p, config.shaping_gamma)), cap) as tf.Tensor2D
    }
    case "none":
      return tf.onesLike(diff) as tf.Tensor2D
  }
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
 * The loss of DESIGN.md §4 step 7 as TensorFlow.js ops: the PPO-clip surrogate on on-policy
 * tokens, the calibrated policy gradient -A * w_t * logp_t (w detached) on transferred tokens,
 * an optional KL penalty, reduced with the configured aggregation. Each formula mirrors the core
 * reference (ppoClipToken, transferTokenLoss, calibrationWeights, klEstimate, aggregateLoss), and
 * a property test checks them against each other.
 *
 * @example
 * const { loss } = icrlLoss(inputs, config)
 */
export const icrlLoss = (inputs: LossInputs, config: LossConfig): LossOutputs => {
  const { logprobs, oldLogprobs, mask } = inputs
  const [n, t] = logprobs.shape
  const adv = tf.reshape(inputs.advantages, [n, 1])
  const transferred = tf.reshape(inputs.transferred, [n, 1])
  const onPolicy = tf.sub(1, transferred)
  // PPO clip on on-policy tokens.
  const ratio = tf.exp(tf.clipByValue(tf.sub(logprobs, oldLogprobs), -MAX_LOG_RATIO, MAX_LOG_RATIO))
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
  // Calibrated policy gradient on transferred tokens: value -A * w, gradient -A * w * d logp.
  const free = stopGradient(logprobs)
  const w = calibration(free, oldLogprobs, mask, config)
  const surrogateOne = tf.exp(tf.sub(logprobs, free))
  const transfer = tf.mul(tf.mul(tf.neg(adv), w), surrogateOne)
  let tokenLoss: tf.Tensor = tf.add(tf.mul(onPolicy, ppo), tf.mul(transferred, transfer))
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
  const weights = tf.mul(tf.add(tf.mul(transferred, w), onPolicy), mask) as tf.Tensor2D
  return {
    loss,
    tokenLoss: tokenLoss as tf.Tensor2D,
    weights,
    clipped: tf.mul(tf.mul(isClipped, onPolicy), mask) as tf.Tensor2D,
    kl: tf.mul(kl, mask) as tf.Tensor2D,
  }
}
