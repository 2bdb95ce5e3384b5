import { Context, type Effect } from "effect"
import type { PolicyError } from "./Errors.ts"
import type { Role } from "./Role.ts"

/** One generation request. Sampling is reproducible for a given `seed`. */
export interface GenerationRequest {
  readonly prompt: string
  readonly maxTokens: number
  /** 0 means greedy. */
  readonly temperature: number
  readonly topP?: number
  readonly stop?: ReadonlyArray<string>
  readonly seed?: number
  /** Which role this request is for; remote policies may route critics to another model. */
  readonly role?: Role
}

/** A completion with its tokens and the per-token log-probs of the distribution they were sampled from. */
export interface Completion {
  readonly text: string
  readonly tokenIds: ReadonlyArray<number>
  /**
   * log pi(token_t | prompt, tokens_<t) under the distribution the token was drawn from (the
   * request's temperature and top-p), one per token id; greedy requests report temperature 1.
   */
  readonly logprobs: ReadonlyArray<number>
  readonly promptTokens: number
  readonly finishReason: "stop" | "length"
}

/** Anything that turns prompts into completions: the in-process model or an HTTP endpoint. */
export interface Policy {
  readonly name: string
  generate(requests: ReadonlyArray<GenerationRequest>): Effect.Effect<ReadonlyArray<Completion>, PolicyError>
}

/** A completion to score under a prompt by teacher forcing. */
export interface ScoreRequest {
  readonly prompt: string
  readonly tokenIds: ReadonlyArray<number>
  /** The temperature the completion was sampled at (default 1); scored at `scoringTemperature` of it. */
  readonly temperature?: number
}

/**
 * One sequence of a policy-gradient batch.
 *
 * On-policy samples (`transferred: false`) are trained under the prompt they were sampled from,
 * with the PPO-clip surrogate against `oldLogprobs`. Transferred refinements (`transferred: true`)
 * are trained under the critique-free solver prompt `prompt`, while `oldLogprobs` are the
 * behaviour log-probs under the refine prompt they were sampled from; the trainer weights each
 * token by the calibration weight of DESIGN.md §4 step 6. `oldLogprobs` are always the
 * sampler's (at the rollout temperature), which the trainer re-scores at the same temperature.
 */
export interface TrainingSample {
  readonly role: Role
  readonly prompt: string
  readonly tokenIds: ReadonlyArray<number>
  readonly oldLogprobs: ReadonlyArray<number>
  readonly advantage: number
  readonly transferred: boolean
}

/** What one update reports. */
export interface UpdateStats {
  readonly loss: number
  readonly gradNorm: number
  /** Fraction of tokens with a PPO term whose ratio was clipped. */
  readonly clipFraction: number
  /** Mean calibration weight over transferred tokens (NaN-free: 0 when there are none). */
  readonly meanCalibrationWeight: number
  /**
   * Mean sampler/trainer correction min(exp(log pi_old - log pi_sampler), C) over on-policy
   * tokens (0 when there are none): about 1 when the sampler computes the trainer's
   * probabilities; weighted into the loss under calibration_scope `all`.
   */
  readonly samplerWeightMean: number
  /** Fraction of on-policy tokens whose ratio pi_old / pi_sampler exceeds C (the weight is truncated). */
  readonly samplerWeightClipFraction: number
  /**
   * Each role's total aggregation weight in the loss (the sum of its tokens' weights): with
   * token-mean, 1 for the only role of GRPO; under a pooled aggregate the roles share 1.
   */
  readonly lossWeightByRole: Readonly<Partial<Record<Role, number>>>
  readonly kl: number
  readonly tokens: number
  /** True when the loss or gradient was non-finite and the update was skipped. */
  readonly skipped: boolean
}

/** A policy that can also score completions and take a gradient step. */
export interface TrainablePolicy extends Policy {
  score(requests: ReadonlyArray<ScoreRequest>): Effect.Effect<ReadonlyArray<ReadonlyArray<number>>, PolicyError>
  update(batch: ReadonlyArray<TrainingSample>): Effect.Effect<UpdateStats, PolicyError>
}

/**
 * The policy a program generates with: the solver, and the critic unless a `CriticPolicy` is
 * provided too. Provided by the trainer's local-checkpoint layer or `OpenAIPolicy.layer`.
 *
 * @example
 * const policy = yield* PolicyService
 * const [completion] = yield* policy.generate([{ prompt, maxTokens: 32, temperature: 0 }])
 */
export class PolicyService extends Context.Service<PolicyService, Policy>()("@icrl/core/PolicyService") {}

/**
 * A critic policy other than the solver (another checkpoint or endpoint); when absent, the
 * solver critiques its own attempts.
 *
 * @example
 * const critic = Option.getOrElse(yield* Effect.serviceOption(CriticPolicy), () => solver)
 */
export class CriticPolicy extends Context.Service<CriticPolicy, Policy>()("@icrl/core/CriticPolicy") {}
