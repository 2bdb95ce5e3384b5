import { EnvironmentNotFound, loadEnvironment, type EnvironmentPackage, type Task } from "@icrl/core"
import { Effect, Result } from "effect"
import { FlagError, type FlagSpec } from "./flags.ts"

/** Flags every command that loads an environment for training or evaluation accepts. */
export const envFlags = {
  env: { type: "string", description: "environment name (see `bun run envs list`)" },
  difficulty: { type: "string", description: "math difficulty level(s), e.g. 1, 2 or 1-3 (env option)" },
  data: { type: "string", description: "JSONL data file for gsm8k / math-jsonl (env option)" },
  "skip-bad-lines": { type: "boolean", description: "skip malformed data lines with a count (env option)" },
  options: { type: "string", default: "", description: "other environment options as key=value,key=value" },
} as const satisfies Record<string, FlagSpec>

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

/** The environment options (TaskOptions.options) from parsed env flags. */
export const envOptionsOf = (values: {
  readonly difficulty?: string | undefined
  readonly data?: string | undefined
  readonly "skip-bad-lines"?: boolean | undefined
  readonly options?: string | undefined
}): Record<string, string> => ({
  ...parseEnvOptions(values.options ?? ""),
  ...(values.difficulty === undefined ? {} : { difficulty: values.difficulty }),
  ...(values.data === undefined ? {} : { data: values.data }),
  ...(values["skip-bad-lines"] === true ? { skipBadLines: "true" } : {}),
})

/** Loads an environment, turning an unknown or missing name into a FlagError on --env that lists the names. */
export const loadForFlag = async (name: string | undefined): Promise<EnvironmentPackage<Task>> => {
  const result = await Effect.runPromise(Effect.result(loadEnvironment(name ?? "")))
  if (Result.isSuccess(result)) return result.success
  const error = result.failure
  if (error instanceof EnvironmentNotFound) {
    const detail = name === undefined ? `is required; available: ${error.available.join(", ")}` : error.message
    throw new FlagError({ flag: "env", detail })
  }
  throw error
}

/**
 * Checks that an environment accepts the options by asking it for one task of each split;
 * an environment's ConfigError (a bad difficulty, say) becomes a FlagError naming the option.
 */
export const checkEnvOptions = (env: EnvironmentPackage<Task>, options: Readonly<Record<string, string>>): void => {
  for (const split of ["train", "test"] as const) {
    try {
      env.tasks(split, { seed: 0, count: 1, options })
    } catch (error) {
      const tagged = error as { _tag?: string; field?: string; message?: string }
      if (tagged._tag === "ConfigError") throw new FlagError({ flag: tagged.field ?? "options", detail: tagged.message ?? String(error) })
      throw error
    }
  }
}
