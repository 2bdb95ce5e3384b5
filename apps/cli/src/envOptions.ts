import { EnvironmentRegistry, trySync, type EnvironmentLoadError, type EnvironmentPackage, type Split, type Task } from "@icrl/core"
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { resolve } from "node:path"
import { defaulted, FlagError, optional, toggle } from "./flags.ts"

/** The --env flag: an environment name (see `bun run envs list`). */
export const envFlag = optional(Flag.String("env"), "environment name (see `bun run envs list`)")

/** The environment option flags (TaskOptions.options): shared by the commands that train or evaluate. */
export const envOptionFlags = {
  difficulty: optional(Flag.String("difficulty"), "difficulty level (env option): math 1-5 or a range like 1-3; household, shop, searchqa 1-3"),
  data: optional(Flag.String("data"), "JSONL data file for gsm8k / math-jsonl (env option)"),
  skipBadLines: toggle("skip-bad-lines", "skip malformed data lines with a count (env option)"),
  options: defaulted(Flag.String("options"), "", "other environment options as key=value,key=value"),
}

/** The parsed environment option flags. */
export interface EnvOptionValues {
  readonly difficulty: Option.Option<string>
  readonly data: Option.Option<string>
  readonly skipBadLines: boolean
  readonly options: string
}

/** No environment options given (commands that take only --options start from this). */
export const noEnvOptions: EnvOptionValues = { difficulty: Option.none(), data: Option.none(), skipBadLines: false, options: "" }

/**
 * Parses `key=value,key=value` into environment options; a piece without "=" is a FlagError.
 *
 * @example
 * parseEnvOptions("type=heat,size=full") // { type: "heat", size: "full" }
 */
export const parseEnvOptions = (text: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const piece of text.split(",").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const eq = piece.indexOf("=")
    if (eq <= 0) throw new FlagError({ flag: "options", detail: `"${piece}" is not key=value` })
    out[piece.slice(0, eq).trim()] = piece.slice(eq + 1).trim()
  }
  return out
}

/** The environment options (TaskOptions.options) from the env option flags; a bad --options is a FlagError. */
export const envOptionsOf = (values: EnvOptionValues): Effect.Effect<Record<string, string>, FlagError> =>
  trySync(
    () => ({
      ...parseEnvOptions(values.options),
      ...Option.match(values.difficulty, { onNone: () => ({}), onSome: (difficulty) => ({ difficulty }) }),
      ...Option.match(values.data, { onNone: () => ({}), onSome: (data) => ({ data }) }),
      ...(values.skipBadLines ? { skipBadLines: "true" } : {}),
    }),
    [FlagError],
  )

/**
 * The env option flags as `train` arguments, for the ones given.
 *
 * @example
 * envOptionArgs({ difficulty: Option.some("2"), data: Option.none(), skipBadLines: false, options: "" }) // ["--difficulty=2"]
 */
export const envOptionArgs = (values: EnvOptionValues): Array<string> => [
  ...Option.match(values.data, { onNone: () => [], onSome: (data) => [`--data=${resolve(data)}`] }),
  ...Option.match(values.difficulty, { onNone: () => [], onSome: (difficulty) => [`--difficulty=${difficulty}`] }),
  ...(values.options === "" ? [] : [`--options=${values.options}`]),
  ...(values.skipBadLines ? ["--skip-bad-lines"] : []),
]

/** Loads an environment from the registry; an unknown or missing name is a FlagError on --env that lists the names. */
export const loadForFlag = (name: Option.Option<string>): Effect.Effect<EnvironmentPackage<Task>, FlagError | EnvironmentLoadError, EnvironmentRegistry> =>
  Effect.gen(function* () {
    const registry = yield* EnvironmentRegistry
    return yield* registry.load(Option.getOrElse(name, () => "")).pipe(
      Effect.catchTag("EnvironmentNotFound", (error) =>
        Effect.fail(new FlagError({ flag: "env", detail: Option.isNone(name) ? `is required; available: ${error.available.join(", ")}` : error.message })),
      ),
    )
  })

/**
 * Checks that an environment accepts the options by asking it for one task of each split the
 * command uses; a ConfigError (a bad difficulty, say) becomes a FlagError naming the option.
 */
export const checkEnvOptions = (env: EnvironmentPackage<Task>, options: Readonly<Record<string, string>>, splits: ReadonlyArray<Split> = ["train", "test"]) =>
  Effect.forEach(splits, (split) => env.tasks(split, { seed: 0, count: 1, options }), { discard: true }).pipe(
    Effect.catchTag("ConfigError", (error) => Effect.fail(new FlagError({ flag: error.field, detail: error.detail }))),
  )
