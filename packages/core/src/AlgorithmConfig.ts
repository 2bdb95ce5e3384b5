import { Effect, Schema } from "effect"
import { ConfigError } from "./Errors.ts"

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Which algorithm runs: ICRL (solver + critic + transfer) or the GRPO baseline (solver only). */
export const Algorithm = Schema.Literals(["icrl", "grpo"])
export type Algorithm = typeof Algorithm.Type

/** Group advantage estimators: mean/std (GRPO), mean-only (Dr. GRPO), leave-one-out (RLOO). */
export const AdvantageEstimator = Schema.Literals(["grpo", "mean-only", "rloo"])
export type AdvantageEstimator = typeof AdvantageEstimator.Type

/** How transferred refinements are re-weighted (DESIGN.md §4 step 6). */
export const CalibrationMode = Schema.Literals(["token-tis", "seq-geo", "shaping", "none"])
export type CalibrationMode = typeof CalibrationMode.Type

/** Which refinements are transferred to the critique-free solver. */
export const TransferMode = Schema.Literals(["improved", "success", "all"])
export type TransferMode = typeof TransferMode.Type

/** KL estimators: k1 = log ratio, k2 = half squared log ratio, k3 = exp(-d) - 1 + d (low variance). */
export const KlEstimator = Schema.Literals(["k1", "k2", "k3"])
export type KlEstimator = typeof KlEstimator.Type

/** How per-token losses are reduced to one number. */
export const LossAggMode = Schema.Literals([
  "token-mean",
  "seq-mean-token-mean",
  "seq-mean-token-sum",
  "seq-mean-token-sum-norm",
])
export type LossAggMode = typeof LossAggMode.Type

/**
 * Every knob of the algorithm (DESIGN.md §4), with verl-style names and defaults.
 * Decode with {@link decodeAlgorithmConfig}; every field is optional on input.
 */
export const AlgorithmConfig = Schema.Struct({
  algorithm: withDefault(Algorithm, "icrl"),
  /** G: solver samples per task. */
  rollout_n: withDefault(PositiveInt, 4),
  /** Tasks per training step. */
  train_batch_size: withDefault(PositiveInt, 16),
  /** M: critiques sampled per selected attempt. */
  critiques_per_attempt: withDefault(PositiveInt, 1),
  /** Critique only failed attempts (r < max reward). */
  critique_failed_only: withDefault(Schema.Boolean, false),
  transfer: withDefault(TransferMode, "improved"),
  adv_estimator: withDefault(AdvantageEstimator, "grpo"),
  /** eps in A = (r - mean) / (std + eps). */
  adv_epsilon: withDefault(Positive, 1e-6),
  /** Normalize each role inside its own (task, role) group; false pools the roles per task. */
  rolewise_norm: withDefault(Schema.Boolean, true),
  /** Train the refiner role's on-policy tokens too. */
  train_refiner: withDefault(Schema.Boolean, false),
  /** Keep the critic out of the loss (ablation). */
  freeze_critic: withDefault(Schema.Boolean, false),
  /** Critic reward = r' - r - critic_length_cost * critique tokens. */
  critic_length_cost: withDefault(NonNegative, 0),
  calibration: withDefault(CalibrationMode, "token-tis"),
  /** C: the truncation cap of the calibration weight. */
  calibration_cap: withDefault(Positive, 1),
  /** gamma of the shaping function p / (p + gamma). */
  shaping_gamma: withDefault(Positive, 0.1),
  clip_ratio_low: withDefault(NonNegative.check(Schema.isLessThan(1)), 0.2),
  clip_ratio_high: withDefault(NonNegative, 0.28),
  /** Dual-clip bound c (> 1) for negative advantages; applied only with use_dual_clip. */
  clip_ratio_c: withDefault(Schema.Finite.check(Schema.isGreaterThan(1)), 3),
  use_dual_clip: withDefault(Schema.Boolean, false),
  use_kl_loss: withDefault(Schema.Boolean, false),
  kl_loss_coef: withDefault(NonNegative, 0.001),
  kl_loss_type: withDefault(KlEstimator, "k3"),
  loss_agg_mode: withDefault(LossAggMode, "token-mean"),
  /** Normalizer for seq-mean-token-sum-norm (tokens); 0 means the longest response in the batch. */
  loss_scale_factor: withDefault(NonNegative, 0),
  ppo_epochs: withDefault(PositiveInt, 1),
  /**
   * RL learning rate. 1e-4 is stable when RL continues the warm start's Adam moments (see the
   * trainer's `rlOptimizer`); with fresh moments the small CPU model collapsed from 49% to 23% in 10 steps.
   */
  lr: withDefault(Positive, 1e-4),
  temperature: withDefault(NonNegative, 0.7),
  top_p: withDefault(Positive.check(Schema.isLessThanOrEqualTo(1)), 1),
  total_steps: withDefault(NonNegativeInt, 40),
  seed: withDefault(Schema.Int, 0),
})
export type AlgorithmConfig = typeof AlgorithmConfig.Type

/** The first path segment of a schema issue, as the field name users typed. */
const fieldOf = (message: string): string => {
  const match = /at \["?([^"\]]+)"?\]/.exec(message)
  return match?.[1] ?? "(root)"
}

/**
 * Decodes untrusted input (flags, a JSON file) into a full config with defaults,
 * failing with a ConfigError that names the offending field.
 *
 * @example
 * decodeAlgorithmConfig({ rollout_n: 8 }) // Effect<AlgorithmConfig, ConfigError>
 */
export const decodeAlgorithmConfig = (input: unknown): Effect.Effect<AlgorithmConfig, ConfigError> =>
  Schema.decodeUnknownEffect(AlgorithmConfig)(input, { onExcessProperty: "error" }).pipe(
    Effect.mapError((error) => new ConfigError({ field: fieldOf(error.message), detail: error.message.split("\n")[0] ?? error.message })),
  )

/** The default config. */
export const defaultAlgorithmConfig: AlgorithmConfig = Schema.decodeUnknownSync(AlgorithmConfig)({})
