import { Effect, Schema } from "effect"
import { ConfigError } from "./Errors.ts"

/** A knob: its schema, its default (when the input leaves it out) and what it does (shown in `--help`). */
const knob = <S extends Schema.Top>(schema: S, value: S["Encoded"], description: string) =>
  Schema.withDecodingDefaultKey(Effect.succeed(value))(schema.annotate({ description }) as S)

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * The algorithm recipe: a name for a set of knob defaults (see {@link algorithmRecipes}); knobs
 * given explicitly override the recipe's.
 *
 * - `icrl`: ICRL as the authors' reference implementation runs it (DESIGN.md §4, "What the
 *   reference implementation does");
 * - `grpo`: the GRPO baseline, one round (solver only);
 * - `critique-grpo`: refinements guided by an untrained critic (the environment's reference
 *   critic), mixed into the solver group with the policy-shaping function p / (p + gamma);
 * - `icrl-ungated`: our first reconstruction (every attempt critiqued, critic reward = gain,
 *   improved refinements transferred with weights capped at 1, pooled token-mean);
 * - `icrl-blank-critique`: `icrl` with every critique replaced by empty text (a control that
 *   separates the critique from plain resampling of failed tasks).
 */
export const Algorithm = Schema.Literals(["icrl", "grpo", "critique-grpo", "icrl-ungated", "icrl-blank-critique"])
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

/** Which attempts of a round the critic reads: only failed ones (a success ends the episode), or all. */
export const CritiqueAttempts = Schema.Literals(["failed", "all"])
export type CritiqueAttempts = typeof CritiqueAttempts.Type

/** The critic's reward: 1 when the next round succeeds, else the reward gain; or always the gain. */
export const CriticRewardMode = Schema.Literals(["success-or-gain", "gain"])
export type CriticRewardMode = typeof CriticRewardMode.Type

/**
 * Who writes critiques during training: the shared policy (trained as the critic), a frozen copy
 * of the run's initial policy, the environment's reference critic, or nobody (empty text).
 * Only `policy` critiques are trained.
 */
export const CriticSourceName = Schema.Literals(["policy", "frozen", "reference", "blank"])
export type CriticSourceName = typeof CriticSourceName.Type

/** Which tokens carry the truncated importance weight: every token, or transferred refinements only. */
export const CalibrationScope = Schema.Literals(["all", "transferred"])
export type CalibrationScope = typeof CalibrationScope.Type

/** The advantage group of a reward: (task, round, role) as the reference, or (task, role). */
export const AdvGroupKey = Schema.Literals(["task-round-role", "task-role"])
export type AdvGroupKey = typeof AdvGroupKey.Type

/** How the loss combines roles: one aggregate over all tokens, or one per role, summed. */
export const RoleLossAgg = Schema.Literals(["pooled", "per-role-sum"])
export type RoleLossAgg = typeof RoleLossAgg.Type

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
  /** The recipe whose knob defaults apply (see {@link Algorithm}); saved with the run. */
  algorithm: knob(Algorithm, "icrl", "algorithm recipe; its knob defaults apply under the knobs given"),
  rollout_n: knob(PositiveInt, 4, "G: solver samples per task"),
  train_batch_size: knob(PositiveInt, 16, "tasks per training step"),
  max_rounds: knob(PositiveInt, 2, "rounds per training episode: 1 = no critique (GRPO); 2 = attempt, critique, refinement"),
  critiques_per_attempt: knob(PositiveInt, 1, "M: critiques sampled per selected attempt"),
  critique_attempts: knob(CritiqueAttempts, "failed", "which attempts are critiqued: failed (reward below the maximum; a success ends the episode) or all"),
  critic_source: knob(CriticSourceName, "policy", "who writes the critiques in training (only policy critiques are trained)"),
  transfer: knob(TransferMode, "all", "which refinements are trained under the critique-free prompt: all, improved (r' > r) or success"),
  /**
   * Drop a task's refinements and critiques from the loss unless one of its episodes succeeded
   * and its episodes' mean reward is at least `transfer_mask_min_mean`.
   */
  use_transfer_mask: knob(Schema.Boolean, true, "drop the refinements and critiques of a task without a success or below transfer_mask_min_mean"),
  transfer_mask_min_mean: knob(Schema.Finite, 0.3, "the mean episode reward a task needs for its refinements and critiques to be trained"),
  adv_estimator: knob(AdvantageEstimator, "grpo", "group advantage: mean/std (grpo), mean-only (Dr. GRPO) or leave-one-out (rloo)"),
  adv_epsilon: knob(Positive, 1e-6, "eps in A = (r - mean) / (std + eps)"),
  adv_group_key: knob(AdvGroupKey, "task-round-role", "advantage groups: (task, round, role) or (task, role)"),
  rolewise_norm: knob(Schema.Boolean, true, "normalize each role inside its own group; false pools the roles (ablation)"),
  use_pseudo_reward: knob(Schema.Boolean, true, "add one pseudo reward to every group's mean and std (an all-fail group gets negative advantages)"),
  pseudo_reward: knob(Schema.Finite, 1, "the value of the pseudo reward (the success reward)"),
  step_advantage_weight: knob(
    NonNegative,
    0,
    "omega: add omega x a step-level advantage to each turn of a multi-turn episode (GiGPO: discounted returns normalized among the turns of the task's group that acted in the same state); 0: every turn gets its episode's advantage",
  ),
  step_gamma: knob(Positive.check(Schema.isLessThanOrEqualTo(1)), 0.95, "gamma of the discounted returns behind the step-level advantage"),
  train_refiner: knob(Schema.Boolean, false, "train the refiner role's on-policy tokens too"),
  freeze_critic: knob(Schema.Boolean, false, "keep the critic out of the loss (ablation)"),
  critic_reward: knob(CriticRewardMode, "success-or-gain", "the critic's reward: success-or-gain (1 if the next round succeeds, else r' - r) or gain (r' - r)"),
  critic_length_cost: knob(NonNegative, 0, "critic reward minus critic_length_cost * critique tokens"),
  calibration: knob(CalibrationMode, "token-tis", "how refinement tokens are re-weighted"),
  calibration_cap: knob(Positive, 2, "C: importance weights are clamped to [0, C]"),
  calibration_scope: knob(CalibrationScope, "all", "which tokens carry the importance weight: all (the reference: every sample) or transferred"),
  shaping_gamma: knob(Positive, 0.1, "gamma of the shaping function p / (p + gamma)"),
  clip_ratio_low: knob(NonNegative.check(Schema.isLessThan(1)), 0.2, "PPO clip ratio below 1"),
  clip_ratio_high: knob(NonNegative, 0.28, "PPO clip ratio above 1"),
  clip_ratio_c: knob(Schema.Finite.check(Schema.isGreaterThan(1)), 3, "dual-clip bound c (> 1) for negative advantages, with use_dual_clip"),
  use_dual_clip: knob(Schema.Boolean, false, "dual clip for negative advantages"),
  use_kl_loss: knob(Schema.Boolean, false, "add the KL term to the loss"),
  kl_loss_coef: knob(NonNegative, 0.001, "KL loss coefficient"),
  kl_loss_type: knob(KlEstimator, "k3", "KL estimator"),
  loss_agg_mode: knob(LossAggMode, "token-mean", "how per-token losses are reduced to one number"),
  /**
   * Under the failed-only gate and the transfer mask the critic has few tokens: pooled leaves the
   * solver about 0.93 of the weight on math, while per-role-sum gave each critic token about 8
   * times a solver token's weight in a measured level-2 batch.
   */
  role_loss_agg: knob(
    RoleLossAgg,
    "pooled",
    "how roles share the loss: pooled (one aggregate over every token, as the reference) or per-role-sum (each role aggregated alone, then summed)",
  ),
  loss_scale_factor: knob(NonNegative, 0, "normalizer of seq-mean-token-sum-norm in tokens (0: the longest response in the batch)"),
  lr: knob(Positive, 1e-4, "RL learning rate (RL continues the warm start's Adam moments: see the trainer's rlOptimizer)"),
  temperature: knob(NonNegative, 0.7, "sampling temperature of training rollouts (0: greedy); log-probs are stored and re-scored at it"),
  top_p: knob(Positive.check(Schema.isLessThanOrEqualTo(1)), 1, "nucleus sampling mass"),
  total_steps: knob(NonNegativeInt, 40, "RL steps"),
  seed: knob(Schema.Int, 0, "seed of everything"),
})
export type AlgorithmConfig = typeof AlgorithmConfig.Type

/** The first path segment of a schema issue, as the field name users typed. */
const fieldOf = (message: string): string => {
  const match = /at \["?([^"\]]+)"?\]/.exec(message)
  return match?.[1] ?? "(root)"
}

/**
 * The knob defaults of each recipe that differ from `icrl`'s (the Schema defaults).
 *
 * @example
 * algorithmRecipes.grpo // { max_rounds: 1, use_pseudo_reward: false }
 */
export const algorithmRecipes: Readonly<Record<Algorithm, Readonly<Partial<Omit<AlgorithmConfig, "algorithm">>>>> = {
  icrl: {},
  grpo: { max_rounds: 1, use_pseudo_reward: false },
  "critique-grpo": {
    critic_source: "reference",
    calibration: "shaping",
    adv_group_key: "task-role",
    use_pseudo_reward: false,
    use_transfer_mask: false,
  },
  "icrl-ungated": {
    critique_attempts: "all",
    critic_reward: "gain",
    transfer: "improved",
    use_transfer_mask: false,
    calibration_cap: 1,
    calibration_scope: "transferred",
    adv_group_key: "task-role",
    use_pseudo_reward: false,
  },
  "icrl-blank-critique": { critic_source: "blank" },
}

/**
 * Decodes untrusted input (flags, a JSON file) into a full config: explicit knobs, then the
 * defaults of the named recipe, then the Schema defaults. Fails with a ConfigError that names
 * the offending field.
 *
 * @example
 * decodeAlgorithmConfig({ algorithm: "grpo", rollout_n: 8 }) // Effect<AlgorithmConfig, ConfigError>, max_rounds 1
 */
export const decodeAlgorithmConfig = (input: unknown): Effect.Effect<AlgorithmConfig, ConfigError> => {
  const record = typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined
  const name = record?.["algorithm"]
  const recipe = typeof name === "string" && Object.hasOwn(algorithmRecipes, name) ? algorithmRecipes[name as Algorithm] : undefined
  const withRecipe = record === undefined || recipe === undefined ? input : { ...recipe, ...record }
  return Schema.decodeUnknownEffect(AlgorithmConfig)(withRecipe, { onExcessProperty: "error" }).pipe(
    Effect.mapError((error) => new ConfigError({ field: fieldOf(error.message), detail: error.message.split("\n")[0] ?? error.message })),
  )
}

/** The default config (the `icrl` recipe). */
export const defaultAlgorithmConfig: AlgorithmConfig = Schema.decodeUnknownSync(AlgorithmConfig)({})
