/**
 * The episode rules of the agentic environments, as the reference agent loop runs them: a turn
 * cap (every step counts, an invalid action included) and an early stop once the same action
 * has been taken a given number of times in a row.
 */
import { ConfigError } from "@icrl/core"

/** When an episode is cut short. */
export interface EpisodeRules {
  /** Most steps (turns) per episode; the step that reaches it truncates the episode. */
  readonly maxSteps: number
  /** Stop after this many identical actions in a row (0: never). */
  readonly repeatLimit: number
}

/** The reference's rules: 30 turns, and a stop after the same action three times in a row. */
export const defaultEpisodeRules: EpisodeRules = { maxSteps: 30, repeatLimit: 3 }

/**
 * Counts the steps of one episode against its rules.
 *
 * @example
 * const clock = new EpisodeClock({ maxSteps: 30, repeatLimit: 3 })
 * clock.tick("look") // false
 * clock.tick("look") // false
 * clock.tick("look") // true: the same action three times in a row
 */
export class EpisodeClock {
  /** Steps taken since the last reset. */
  steps = 0
  private last = ""
  private run = 0

  constructor(readonly rules: EpisodeRules) {}

  /** Back to the start of an episode. */
  reset(): void {
    this.steps = 0
    this.last = ""
    this.run = 0
  }

  /** Counts one step taking `action` (normalized); true when the rules end the episode at this step. */
  tick(action: string): boolean {
    this.steps++
    this.run = this.steps > 1 && action === this.last ? this.run + 1 : 1
    this.last = action
    return this.steps >= this.rules.maxSteps || (this.rules.repeatLimit > 0 && this.run >= this.rules.repeatLimit)
  }
}

/**
 * The rules from package construction options, defaults filled in; a step cap below 1 or a
 * negative or fractional repeat limit is a ConfigError naming the option.
 *
 * @example
 * episodeRulesOf({ repeatLimit: 0 }) // { maxSteps: 30, repeatLimit: 0 }
 */
export const episodeRulesOf = (options: Partial<EpisodeRules>, defaults: EpisodeRules = defaultEpisodeRules): EpisodeRules => {
  const rules = { maxSteps: options.maxSteps ?? defaults.maxSteps, repeatLimit: options.repeatLimit ?? defaults.repeatLimit }
  if (!Number.isInteger(rules.maxSteps) || rules.maxSteps < 1) {
    throw new ConfigError({ field: "maxSteps", detail: `${rules.maxSteps} is not a positive integer` })
  }
  if (!Number.isInteger(rules.repeatLimit) || rules.repeatLimit < 0) {
    throw new ConfigError({ field: "repeatLimit", detail: `${rules.repeatLimit} is not a non-negative integer` })
  }
  return rules
}
