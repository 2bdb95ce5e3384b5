/**
 * The algorithm knobs on the command line, derived from the AlgorithmConfig Schema: one flag
 * per field under its verl-style name, typed and described by the schema, with the short name
 * the commands used before as an alias (`--rollout_n` or `--group-size`).
 */
import { AlgorithmConfig, algorithmRecipes, decodeAlgorithmConfig, defaultAlgorithmConfig } from "@icrl/core"
import { Effect, Option, Schema } from "effect"
import { Flag } from "effect/cli"
import { readFileSync } from "node:fs"
import { FlagError } from "./flags.ts"

/** The short names of knobs, accepted as aliases of the verl names. */
export const shortNames: Readonly<Partial<Record<keyof AlgorithmConfig, string>>> = {
  algorithm: "algo",
  total_steps: "steps",
  train_batch_size: "batch-size",
  rollout_n: "group-size",
  critiques_per_attempt: "critiques",
  max_rounds: "max-rounds",
  critique_attempts: "critique-attempts",
  critic_source: "critic-source",
  critic_reward: "critic-reward",
  use_transfer_mask: "transfer-mask",
  transfer_mask_min_mean: "transfer-mask-min-mean",
  adv_group_key: "group-key",
  use_pseudo_reward: "pseudo-reward",
  pseudo_reward: "pseudo-reward-value",
  step_advantage_weight: "step-weight",
  step_gamma: "step-gamma",
  adv_estimator: "adv-estimator",
  rolewise_norm: "rolewise",
  freeze_critic: "frozen-critic",
  train_refiner: "train-refiner",
  calibration_cap: "calibration-cap",
  calibration_scope: "calibration-scope",
  shaping_gamma: "shaping-gamma",
  clip_ratio_low: "clip-low",
  clip_ratio_high: "clip-high",
  use_dual_clip: "dual-clip",
  kl_loss_coef: "kl-coef",
  kl_loss_type: "kl-type",
  loss_agg_mode: "loss-agg",
  role_loss_agg: "role-loss-agg",
  critic_length_cost: "critic-length-cost",
}

/** What the JSON Schema of a field says about its values. */
interface FieldSchema {
  readonly type?: string
  readonly enum?: ReadonlyArray<string>
  readonly description?: string
}

const fieldSchemas = (Schema.toJsonSchemaDocument(AlgorithmConfig).schema as { readonly properties: Readonly<Record<string, FieldSchema>> }).properties

/** The recipes whose default of a knob differs from icrl's, as "grpo: 1". */
const recipeDefaults = (key: keyof AlgorithmConfig): Array<string> =>
  Object.entries(algorithmRecipes).flatMap(([name, recipe]) => (Object.hasOwn(recipe, key) ? [`${name}: ${String(recipe[key as keyof typeof recipe])}`] : []))

/**
 * The flag of one knob: its kind from the schema, optional (a knob given on the command line
 * overrides the others, and the recipe named by --algo fills in the knobs not given).
 */
const knobFlag = (key: keyof AlgorithmConfig): Flag.Flag<Option.Option<unknown>> => {
  const field = fieldSchemas[key] ?? {}
  const base: Flag.Flag<unknown> =
    field.enum !== undefined
      ? Flag.Literals(key, field.enum)
      : field.type === "boolean"
        ? Flag.Boolean(key)
        : field.type === "integer"
          ? Flag.Int(key)
          : Flag.Finite(key)
  const short = shortNames[key]
  // Given without use_kl_loss, a KL coefficient turns the KL term on when it is above 0.
  const note = key === "kl_loss_coef" ? "; above 0 it turns use_kl_loss on unless that is given" : ""
  const recipes = recipeDefaults(key)
  const byRecipe = recipes.length === 0 ? "" : `; ${recipes.join(", ")}`
  const described = base.pipe(Flag.withDescription(`${field.description ?? key} (default ${String(defaultAlgorithmConfig[key])}${byRecipe}${note})`))
  // A boolean knob with a short name is negated the way it was before: --no-rolewise.
  const named = short === undefined ? described : described.pipe(Flag.withAlias(short), Flag.withNegation(`no-${short}`))
  return named.pipe(Flag.optional)
}

/** Every knob's flag, by AlgorithmConfig key. */
export const algorithmFlags: Readonly<Record<keyof AlgorithmConfig, Flag.Flag<Option.Option<unknown>>>> = Object.fromEntries(
  Object.keys(AlgorithmConfig.fields).map((key) => [key, knobFlag(key as keyof AlgorithmConfig)]),
) as Record<keyof AlgorithmConfig, Flag.Flag<Option.Option<unknown>>>

/** The knobs given on the command line, by AlgorithmConfig key. */
export type GivenKnobs = Readonly<Record<string, Option.Option<unknown>>>

/** The knobs given, as a partial config. */
export const givenKnobs = (knobs: GivenKnobs): Record<string, unknown> => {
  const given: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(knobs)) if (Option.isSome(value)) given[key] = value.value
  if (given["kl_loss_coef"] !== undefined && given["use_kl_loss"] === undefined) given["use_kl_loss"] = (given["kl_loss_coef"] as number) > 0
  return given
}

/**
 * How a knob's flag is named in messages (a FlagError's `flag`): the verl name, and the short
 * one where there is one.
 *
 * @example
 * knobLabel("rollout_n") // "rollout_n (--group-size)"
 */
export const knobLabel = (key: string): string => {
  const short = shortNames[key as keyof AlgorithmConfig]
  return short === undefined ? key : `${key} (--${short})`
}

/**
 * The algorithm config of a run: `base` (a resumed run's saved config) < the --config file <
 * the knobs given, decoded with `decodeAlgorithmConfig` so that the recipe they name
 * (`algorithm`) fills in the knobs none of them gives. A bad value is a FlagError naming the
 * flag (or the config key when it came from the file).
 *
 * @example
 * const { config } = yield* algorithmConfigOf(knobs, Option.none())
 */
export const algorithmConfigOf = (
  knobs: GivenKnobs,
  configFile: Option.Option<string>,
  base: Readonly<Record<string, unknown>> = {},
): Effect.Effect<{ readonly config: AlgorithmConfig; readonly fromFile: Readonly<Record<string, unknown>> }, FlagError> =>
  Effect.gen(function* () {
    const fromFile: Record<string, unknown> = Option.isNone(configFile)
      ? {}
      : yield* Effect.try({
          try: () => JSON.parse(readFileSync(configFile.value, "utf8")) as Record<string, unknown>,
          catch: (cause) => new FlagError({ flag: "config", detail: `${configFile.value}: ${cause instanceof Error ? cause.message : String(cause)}` }),
        })
    const config = yield* decodeAlgorithmConfig({ ...base, ...fromFile, ...givenKnobs(knobs) }).pipe(
      Effect.mapError((error) => new FlagError({ flag: knobLabel(error.field), detail: error.detail })),
    )
    return { config, fromFile }
  })

/**
 * The knobs given, as `train` arguments (`--rollout_n=8`), in a stable order.
 *
 * @example
 * knobArgs({ rollout_n: Option.some(8), lr: Option.none() }) // ["--rollout_n=8"]
 */
export const knobArgs = (knobs: GivenKnobs): Array<string> =>
  Object.keys(knobs)
    .sort()
    .flatMap((key) => Option.match(knobs[key]!, { onNone: () => [], onSome: (value) => [`--${key}=${String(value)}`] }))
