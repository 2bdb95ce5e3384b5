/**
 * The run settings an environment package recommends: the warm start that leaves its level-1
 * tasks learnable, and the RL budget that fits its episodes. Flags and a --config file override
 * them; an environment without them trains with the global defaults.
 */
import { Effect } from "effect"
import { decodeAlgorithmConfig, type AlgorithmConfig } from "./AlgorithmConfig.ts"
import { ConfigError } from "./Errors.ts"

/** Warm-start settings: SFT updates, demonstrations per update, peak learning rate. */
export interface WarmStartDefaults {
  readonly steps?: number
  readonly batchSize?: number
  readonly lr?: number
}

export interface TrainingDefaults {
  readonly warmstart?: WarmStartDefaults
  /** Algorithm knobs (verl names) under the ones given; never the recipe or the seed. */
  readonly knobs?: Readonly<Partial<Omit<AlgorithmConfig, "algorithm" | "seed">>>
}

const bad = (field: string, detail: string) => Effect.fail(new ConfigError({ field: `trainingDefaults.${field}`, detail }))

/**
 * Checks an environment's training defaults: warm-start numbers in range, knobs that decode as
 * algorithm knobs and leave the recipe and the seed to the user. Fails with a ConfigError that
 * names the field.
 *
 * @example
 * yield* checkTrainingDefaults({ warmstart: { steps: 1200, batchSize: 8, lr: 6e-3 }, knobs: { train_batch_size: 8 } })
 */
export const checkTrainingDefaults = (defaults: TrainingDefaults | undefined): Effect.Effect<void, ConfigError> =>
  Effect.gen(function* () {
    const warm = defaults?.warmstart
    if (warm?.steps !== undefined && !(Number.isInteger(warm.steps) && warm.steps >= 0)) {
      return yield* bad("warmstart.steps", `must be a non-negative integer, got ${warm.steps}`)
    }
    if (warm?.batchSize !== undefined && !(Number.isInteger(warm.batchSize) && warm.batchSize >= 1)) {
      return yield* bad("warmstart.batchSize", `must be a positive integer, got ${warm.batchSize}`)
    }
    if (warm?.lr !== undefined && !(Number.isFinite(warm.lr) && warm.lr > 0)) return yield* bad("warmstart.lr", `must be a positive number, got ${warm.lr}`)
    const knobs: Readonly<Record<string, unknown>> = defaults?.knobs ?? {}
    for (const key of ["algorithm", "seed"]) if (Object.hasOwn(knobs, key)) return yield* bad(`knobs.${key}`, "is the user's to choose")
    yield* decodeAlgorithmConfig(knobs).pipe(Effect.mapError((error) => new ConfigError({ field: `trainingDefaults.knobs.${error.field}`, detail: error.detail })))
  })
