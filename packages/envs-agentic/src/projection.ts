/**
 * The verl-agent-style prompt projection shared by the agentic environments: what the model
 * sees at one turn (task, recent history, current observation, admissible actions, and on a
 * retry the tips of the critique), how its completion is turned into an action, and the attempt
 * summary the critic reads.
 */
import type { StepResult, Trajectory, TurnContext } from "@icrl/core"
import { ConfigError } from "@icrl/core"
import { Effect, Schema } from "effect"
import { critiqueTips } from "./critique.ts"

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Knobs of the projection. The defaults are compact (byte-level models read every byte, and
 * every prompt byte costs training and sampling time): the last action only (its observation is
 * the current one), short history observations, a bounded attempt summary.
 */
export const ProjectionOptions = Schema.Struct({
  /** K: how many of the most recent actions are shown (with the observations between them). */
  history_length: withDefault(NonNegativeInt, 1),
  /** Longest current observation shown (characters); longer ones are cut with "...". */
  observation_chars: withDefault(PositiveInt, 1200),
  /**
   * Longest prompt (characters; 0: no limit). A longer one first loses its history, then the end
   * of its current observation, so that the task, the tips, the actions and the format line stay
   * and the model's context keeps room for the whole reply (a sampler keeps a prompt whole and
   * cuts the reply at the context's end).
   */
  prompt_chars: withDefault(NonNegativeInt, 0),
  /** Longest observation shown for a history step. */
  history_observation_chars: withDefault(PositiveInt, 100),
  /** List the admissible actions in the prompt. */
  show_admissible: withDefault(Schema.Boolean, true),
  /** End the prompt with a one-line reminder of the reply format. */
  format_hint: withDefault(Schema.Boolean, true),
  /**
   * Reward added (as a negative) to a step whose action was missing or inadmissible. 0 by default,
   * as the reference runs its environments: an episode's reward is then its last step's (0/1 for
   * household, the score for shop and searchqa), which the transfer filter's mean of 0.3 assumes.
   */
  invalid_action_penalty: withDefault(NonNegative, 0),
  /** Longest tips line shown in a retry prompt. */
  critique_chars: withDefault(PositiveInt, 240),
  /** Longest observation per step in the attempt text the critic reads. */
  attempt_observation_chars: withDefault(PositiveInt, 100),
  /** Longest attempt text the critic reads; the middle of longer attempts is omitted. */
  attempt_chars: withDefault(PositiveInt, 700),
})
export type ProjectionOptions = typeof ProjectionOptions.Type

const fieldOf = (message: string): string => /at \["?([^"\]]+)"?\]/.exec(message)?.[1] ?? "(root)"

/**
 * Decodes projection options from untrusted input (flags, JSON), with defaults for what is missing.
 *
 * @example
 * (yield* decodeProjectionOptions({ history_length: 4 })).history_length // 4
 */
export const decodeProjectionOptions = (input: unknown): Effect.Effect<ProjectionOptions, ConfigError> =>
  Schema.decodeUnknownEffect(ProjectionOptions)(input, { onExcessProperty: "error" }).pipe(
    Effect.mapError(
      (error) => new ConfigError({ field: fieldOf(error.message), detail: error.message.split("\n")[0] ?? error.message }),
    ),
  )

/** The default projection. */
export const defaultProjection: ProjectionOptions = Schema.decodeUnknownSync(ProjectionOptions)({})

/**
 * Cuts text to at most `max` characters, ending in "..." when cut.
 *
 * @example
 * clip("abcdef", 5) // "ab..."
 */
export const clip = (text: string, max: number): string =>
  text.length <= max ? text : max <= 3 ? text.slice(0, max) : `${text.slice(0, max - 3)}...`

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

/**
 * Normalizes an action the way the environments compare them: trimmed, lower case, single spaces.
 *
 * @example
 * normalizeAction("  Go to  Fridge 1 ") // "go to fridge 1"
 */
export const normalizeAction = (action: string): string => {
  let out = ""
  let space = false
  for (let i = 0; i < action.length; i++) {
    const c = action.charCodeAt(i)
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      space = out.length > 0
      continue
    }
    if (space) {
      out += " "
      space = false
    }
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : action[i]
  }
  return out
}

/** Observation returned by steps taken after an episode ended. */
export const EPISODE_OVER = "The episode has ended."

/**
 * The result of a step taken after the episode ended: no reward, an invalid action, nothing
 * admissible, and the episode's final `won`, `score`, `steps` (and any other info) unchanged.
 *
 * @example
 * if (this.terminated || this.truncated) return episodeOverStep(this.terminated, this.truncated, { won: this.won, score: 0, steps: this.steps })
 */
export const episodeOverStep = (
  terminated: boolean,
  truncated: boolean,
  info: { readonly won: boolean; readonly score: number; readonly steps: number; readonly [key: string]: unknown },
): StepResult => ({
  observation: EPISODE_OVER,
  reward: 0,
  terminated,
  truncated,
  info: { ...info, actionValid: false, admissibleActions: [] },
})

/** The longest action text kept by {@link parseAction}. */
export const maxActionLength = 200

/**
 * Extracts the action from a completion: the text of the first `<action>...</action>` pair,
 * normalized. A missing tag or an empty action is invalid (action ""); an environment rejects
 * whatever it does not admit, so the result is always safe to pass to `step`.
 *
 * @example
 * parseAction("<think>find mug</think><action>Go to cabinet 1</action>")
 * // { action: "go to cabinet 1", valid: true }
 * parseAction("go to cabinet 1") // { action: "", valid: false }
 */
export const parseAction = (completion: string): { readonly action: string; readonly valid: boolean } => {
  const open = completion.indexOf("<action>")
  if (open < 0) return { action: "", valid: false }
  const close = completion.indexOf("</action>", open + 8)
  if (close < 0) return { action: "", valid: false }
  const action = normalizeAction(completion.slice(open + 8, close))
  if (action.length === 0 || action.length > maxActionLength) return { action: "", valid: false }
  return { action, valid: true }
}

/**
 * The completion that stands for an action: short reasoning, the action, and the stop string.
 *
 * @example
 * formatCompletion("take", "take mug 1 from cabinet 1")
 * // "<think>take</think><action>take mug 1 from cabinet 1</action>\n\n"
 */
export const formatCompletion = (think: string, action: string, stop = "\n\n"): string =>
  `<think>${think}</think><action>${action}</action>${stop}`

/**
 * The step rewards an agentic package declares: down to minus the invalid-action penalty (0, not
 * -0, without one), up to 1.
 *
 * @example
 * agenticRewardRange({ invalid_action_penalty: 0.1 }) // [-0.1, 1]
 */
export const agenticRewardRange = (projection: Pick<ProjectionOptions, "invalid_action_penalty">): readonly [number, number] => [
  0 - projection.invalid_action_penalty,
  1,
]

/**
 * The reward a step contributes after the invalid-action penalty.
 *
 * @example
 * penalizedReward(0, false, 0.1) // -0.1
 */
export const penalizedReward = (reward: number, actionValid: boolean, penalty: number): number =>
  actionValid ? reward : reward - penalty

const actionLabel = (action: string): string => (action === "" ? "(no action)" : action)

/**
 * The prompt the solver sees at one turn. Parts, each on its own line: the last K actions with
 * the observations between them, `Task:`, on a retry episode the critique's tips (between the task
 * and the observation, as the reference places them), `Now:` with the current observation,
 * `Actions:` with the admissible actions, and a one-line reminder of the reply format. The parts
 * run from the least to the most essential, and a prompt over `prompt_chars` gives up the
 * history, then the end of the observation.
 *
 * @example
 * renderAgentPrompt({ task, observation: "You are in the middle of a room. ...", history: [] })
 * // "Task: put a mug in coffeemachine.\nNow: You are in the middle of a room. ...\n..."
 */
export const renderAgentPrompt = (context: TurnContext, options: ProjectionOptions = defaultProjection): string => {
  let recent = ""
  const history = context.history
  const k = Math.min(options.history_length, history.length)
  if (k > 0) {
    recent += `Recent (${history.length} ${history.length === 1 ? "step" : "steps"} taken):\n`
    for (let i = history.length - k; i < history.length; i++) {
      const turn = history[i]!
      recent += `> ${actionLabel(turn.action)}\n`
      if (i < history.length - 1) recent += `${clip(turn.observation, options.history_observation_chars)}\n`
    }
  }
  let task = `Task: ${context.task.text}\n`
  if (context.guidance !== undefined) {
    task += `${clip(oneLine(critiqueTips(context.guidance.critique)), options.critique_chars)}\n`
  }
  let tail = ""
  const admissible = context.admissibleActions
  if (options.show_admissible && admissible !== undefined && admissible.length > 0) {
    tail += `Actions: ${admissible.join(", ")}\n`
  }
  if (options.format_hint) tail += "Reply <think>...</think><action>...</action>\n"
  let observation = clip(context.observation, options.observation_chars)
  const fixed = task.length + "Now: \n".length + tail.length
  if (options.prompt_chars > 0 && recent.length + fixed + observation.length > options.prompt_chars) {
    recent = ""
    observation = clip(observation, Math.max(3, options.prompt_chars - fixed))
  }
  return `${recent}${task}Now: ${observation}\n${tail}`
}

/** What the critic is told besides the steps: the episode's reward and an optional first line. */
export interface AttemptSummary {
  /** The episode's reward as the environment scores it (shown rounded to two decimals). */
  readonly reward: number
  /** A line shown before the steps (the room's receptacles, say); cut to twice `attempt_observation_chars`. */
  readonly header?: string
}

/**
 * The attempt summary the critic reads: an optional header line, one `> action` line and one
 * observation line per step (observations cut short), consecutive identical steps collapsed, the
 * middle of a long attempt omitted, and the reward. Starts with a newline so it reads well after
 * the critic template's `Attempt:`.
 *
 * @example
 * renderTrajectory(trajectory, defaultProjection, { reward: 0 }) // "\n> go to desk 1\nOn the desk 1, you see a pen 1.\n> ...\nReward: 0"
 */
export const renderTrajectory = (trajectory: Trajectory, options: ProjectionOptions, summary: AttemptSummary): string => {
  const header = summary.header === undefined ? "" : `\n${clip(oneLine(summary.header), 2 * options.attempt_observation_chars)}`
  const footer = `\nReward: ${Number(summary.reward.toFixed(2))}`
  return `${header}${renderSteps(trajectory, options)}${footer}`
}

const renderSteps = (trajectory: Trajectory, options: ProjectionOptions): string => {
  const blocks: Array<string> = []
  const turns = trajectory.turns
  for (let i = 0; i < turns.length; ) {
    const turn = turns[i]!
    let j = i + 1
    while (j < turns.length && turns[j]!.action === turn.action && turns[j]!.observation === turn.observation) j++
    const obs = clip(oneLine(turn.observation), options.attempt_observation_chars)
    const repeat = j - i > 1 ? `\n(repeated ${j - i - 1} more times)` : ""
    blocks.push(`> ${actionLabel(turn.action)}\n${obs}${repeat}`)
    i = j
  }
  if (blocks.length === 0) return "\n(no actions)"
  const full = `\n${blocks.join("\n")}`
  if (full.length <= options.attempt_chars) return full
  const budget = Math.floor(options.attempt_chars / 2)
  const head: Array<string> = []
  let used = 0
  for (const block of blocks) {
    if (used + block.length + 1 > budget && head.length > 0) break
    head.push(block)
    used += block.length + 1
  }
  const tail: Array<string> = []
  used = 0
  for (let i = blocks.length - 1; i >= head.length; i--) {
    const block = blocks[i]!
    if (used + block.length + 1 > budget && tail.length > 0) break
    tail.unshift(block)
    used += block.length + 1
  }
  const omitted = blocks.length - head.length - tail.length
  const middle = omitted > 0 ? [`... (${omitted} steps omitted)`] : []
  return clip(`\n${[...head, ...middle, ...tail].join("\n")}`, options.attempt_chars + 40)
}
