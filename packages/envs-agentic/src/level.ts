/**
 * Difficulty levels of the agentic environments, read from the `difficulty` task option (the
 * `--difficulty` flag). A level changes only which tasks are generated, never the actions,
 * observations or prompts, so a policy trained on one level can be evaluated on another.
 */
import { ConfigError } from "@icrl/core"

/** 1: small enough for the `small` model to learn in minutes; 3: the full tasks. */
export type AgenticLevel = 1 | 2 | 3

/** The levels every agentic environment accepts. */
export const agenticLevels: ReadonlyArray<AgenticLevel> = [1, 2, 3]

/** The level used when no difficulty is given. */
export const defaultAgenticLevel: AgenticLevel = 1

/**
 * Reads `difficulty` (one of 1, 2, 3; default 1) from an environment's task options; anything
 * else is a ConfigError on `difficulty` that lists the allowed values.
 *
 * @example
 * agenticLevel("household", { difficulty: "2" }) // 2
 * agenticLevel("shop", {}) // 1
 */
export const agenticLevel = (env: string, options: Readonly<Record<string, string>> | undefined): AgenticLevel => {
  const text = options?.["difficulty"]
  if (text === undefined) return defaultAgenticLevel
  const level = agenticLevels.find((l) => String(l) === text.trim())
  if (level === undefined) {
    throw new ConfigError({ field: "difficulty", detail: `"${text}" is not a ${env} level; allowed: ${agenticLevels.join(", ")}` })
  }
  return level
}
