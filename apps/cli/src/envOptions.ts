import { loadEnvironment, type EnvironmentPackage, type Task } from "@icrl/core"
import { Effect } from "effect"
import type { FlagSpec } from "./flags.ts"

/** Flags every command that loads an environment accepts. */
export const envFlags = {
  env: { type: "string", description: "environment name (see `bun run envs list`)" },
  difficulty: { type: "string", description: "math difficulty level(s), e.g. 1, 2 or 1-3 (env option)" },
  data: { type: "string", description: "JSONL data file for gsm8k / math-jsonl (env option)" },
  "skip-bad-lines": { type: "boolean", description: "skip malformed data lines with a count (env option)" },
} as const satisfies Record<string, FlagSpec>

/** The environment options (TaskOptions.options) from parsed env flags. */
export const envOptionsOf = (values: {
  readonly difficulty?: string | undefined
  readonly data?: string | undefined
  readonly "skip-bad-lines"?: boolean | undefined
}): Record<string, string> => ({
  ...(values.difficulty === undefined ? {} : { difficulty: values.difficulty }),
  ...(values.data === undefined ? {} : { data: values.data }),
  ...(values["skip-bad-lines"] === true ? { skipBadLines: "true" } : {}),
})

/** Loads an environment by name; an unknown name throws with the list of available names. */
export const loadEnv = async (name: string | undefined): Promise<EnvironmentPackage<Task>> => {
  if (name === undefined) {
    const error = await Effect.runPromise(Effect.flip(loadEnvironment("")))
    throw new Error(`--env is required; ${error.message.replace(/^unknown environment ""; /, "")}`)
  }
  return Effect.runPromise(loadEnvironment(name))
}
