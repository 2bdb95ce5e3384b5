/** The flags that send a run's rollouts to OpenAI-compatible inference engines. */
import { engineUrlsProblem } from "@icrl/core"
import type { RemoteRolloutOptions } from "@icrl/trainer"
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { apiKeyFlags, apiKeyOf, type ApiKeyValues } from "./apiKeyFlags.ts"
import { defaulted, FlagError, optional, PositiveCount } from "./flags.ts"

/** `--rollout-*`: the engines, their key, where the weights for them go, and how hard to try. */
export const rolloutFlags = {
  baseUrls: optional(
    Flag.String("rollout-base-url"),
    "sample every rollout on these OpenAI-compatible engines (comma-separated API roots, e.g. http://127.0.0.1:8001/v1), syncing the weights to them after each update",
  ),
  ...apiKeyFlags("rollout-", "the bearer token sent to the engines"),
  weightsDir: optional(Flag.String("rollout-weights-dir"), "where the weights for the engines are written, a path they read under the same name (default <out>/rollout-weights)"),
  maxInFlight: defaulted(Flag.Int("rollout-max-in-flight").pipe(Flag.withSchema(PositiveCount)), 16, "most requests in flight per engine"),
  timeoutMs: defaulted(Flag.Int("rollout-timeout-ms").pipe(Flag.withSchema(PositiveCount)), 120000, "limit of one generation request before it is retried"),
  retries: defaulted(Flag.Int("rollout-retries").pipe(Flag.withSchema(PositiveCount)), 4, "retries of a failed request or weight sync, with exponential backoff"),
}

/** The parsed `--rollout-*` flags. */
export interface RolloutValues extends ApiKeyValues {
  readonly baseUrls: Option.Option<string>
  readonly weightsDir: Option.Option<string>
  readonly maxInFlight: number
  readonly timeoutMs: number
  readonly retries: number
}

/**
 * The remote-rollout options of the `--rollout-*` flags, undefined without `--rollout-base-url`;
 * a URL that is not http(s), a repeated URL or an unusable key source is a FlagError naming its flag.
 *
 * @example
 * const rollout = yield* rolloutOptionsOf(flags.rollout)
 */
export const rolloutOptionsOf = (values: RolloutValues): Effect.Effect<RemoteRolloutOptions | undefined, FlagError> =>
  Effect.gen(function* () {
    const keyGiven = [values.apiKey, values.apiKeyEnv, values.apiKeyFile].some(Option.isSome)
    if (Option.isNone(values.baseUrls)) {
      if (keyGiven || Option.isSome(values.weightsDir)) return yield* new FlagError({ flag: "rollout-base-url", detail: "is needed by the other --rollout-* flags" })
      return undefined
    }
    const baseUrls = values.baseUrls.value.split(",").map((u) => u.trim()).filter((u) => u !== "")
    const problem = engineUrlsProblem(baseUrls)
    if (problem !== undefined) return yield* new FlagError({ flag: "rollout-base-url", detail: problem })
    const apiKey = yield* apiKeyOf(values, "rollout-")
    return {
      baseUrls,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...Option.match(values.weightsDir, { onNone: () => ({}), onSome: (weightsDir) => ({ weightsDir }) }),
      maxInFlight: values.maxInFlight,
      timeoutMs: values.timeoutMs,
      maxRetries: values.retries,
    }
  })
