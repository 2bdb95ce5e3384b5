/**
 * Running scripted episodes through an environment package's projection: each step is rendered
 * as the prompt the policy would see and the completion it would write, so the result is a
 * Trajectory exactly like one the rollout loop records.
 */
import type { EnvironmentPackage, Task, Trajectory, Turn, TurnContext } from "@icrl/core"
import { formatCompletion } from "./projection.ts"

/** One scripted step: the action and its short reasoning. */
export interface ScriptedStep {
  readonly action: string
  readonly think: string
}

/** Guidance for a refinement episode. */
export interface Guidance {
  readonly attempt: string
  readonly critique: string
}

/**
 * Plays scripted steps from the task's initial state until they run out or the episode ends.
 *
 * @example
 * const trajectory = runScript(household, task, householdExpertPlan(task))
 * trajectory.won // true
 */
export const runScript = <T extends Task>(
  pkg: EnvironmentPackage<T>,
  task: T,
  steps: ReadonlyArray<ScriptedStep>,
  guidance?: Guidance,
): Trajectory => {
  const env = pkg.make(task)
  const start = env.reset({ seed: 0 })
  let observation = start.observation
  let admissible = start.info.admissibleActions
  const turns: Array<Turn> = []
  let totalReward = 0
  let won = false
  let score = 0
  let terminated = false
  let truncated = false
  for (const step of steps) {
    const context: TurnContext<T> = {
      task,
      observation,
      history: turns.slice(),
      ...(admissible === undefined ? {} : { admissibleActions: admissible }),
      ...(guidance === undefined ? {} : { guidance }),
    }
    const prompt = pkg.renderPrompt(context)
    const completion = formatCompletion(step.think, step.action)
    const parsed = pkg.parseAction(completion)
    const result = env.step(parsed.action)
    turns.push({
      prompt,
      completion,
      action: parsed.action,
      actionValid: parsed.valid && result.info.actionValid,
      observation: result.observation,
      reward: result.reward,
    })
    totalReward += result.reward
    won = result.info.won
    score = result.info.score ?? (won ? 1 : 0)
    observation = result.observation
    admissible = result.info.admissibleActions
    terminated = result.terminated
    truncated = result.truncated
    if (terminated || truncated) break
  }
  return { taskId: task.id, turns, totalReward, won, score, terminated, truncated }
}
