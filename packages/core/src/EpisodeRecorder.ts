import type { ResetResult, StepResult } from "./Environment.ts"
import type { TurnContext } from "./EnvironmentPackage.ts"
import type { Task } from "./Task.ts"
import type { Trajectory, Turn } from "./Trajectory.ts"

/**
 * The running state of one episode: the current observation and admissible actions, the turns
 * so far and the totals. The rollout loop, scripted episodes and the `play` command all record
 * their steps through it, so they produce the same Trajectory for the same steps.
 *
 * @example
 * const episode = new EpisodeRecorder(task, env.reset({ seed: 0 }))
 * const prompt = pkg.renderPrompt(episode.context())
 * episode.record(prompt, completion, pkg.parseAction(completion), env.step(action))
 */
export class EpisodeRecorder<T extends Task = Task> {
  observation: string
  admissible: ReadonlyArray<string> | undefined
  readonly turns: Array<Turn> = []
  totalReward = 0
  won = false
  score = 0
  terminated = false
  truncated = false

  constructor(
    readonly task: T,
    start: ResetResult,
    readonly guidance?: { readonly attempt: string; readonly critique: string },
  ) {
    this.observation = start.observation
    this.admissible = start.info.admissibleActions
  }

  /** True once the episode terminated or was truncated. */
  get done(): boolean {
    return this.terminated || this.truncated
  }

  /** What the next prompt is rendered from. */
  context(): TurnContext<T> {
    return {
      task: this.task,
      observation: this.observation,
      history: this.turns.slice(),
      ...(this.admissible === undefined ? {} : { admissibleActions: this.admissible }),
      ...(this.guidance === undefined ? {} : { guidance: this.guidance }),
    }
  }

  /**
   * Records one step. `penalty` is added to the reward of an invalid step (a parse failure or
   * an action the environment rejected).
   */
  record(
    prompt: string,
    completion: string,
    parsed: { readonly action: string; readonly valid: boolean },
    result: StepResult,
    penalty = 0,
  ): Turn {
    const valid = parsed.valid && result.info.actionValid
    const turn: Turn = {
      prompt,
      completion,
      action: parsed.action,
      actionValid: valid,
      observation: result.observation,
      reward: result.reward + (valid ? 0 : penalty),
    }
    this.turns.push(turn)
    this.totalReward += turn.reward
    this.won = this.won || result.info.won
    this.score = result.info.score ?? (this.won ? 1 : 0)
    this.observation = result.observation
    this.admissible = result.info.admissibleActions
    this.terminated = result.terminated
    this.truncated = result.truncated
    return turn
  }

  /** The episode so far as a Trajectory. */
  trajectory(): Trajectory {
    return {
      taskId: this.task.id,
      turns: this.turns,
      totalReward: this.totalReward,
      won: this.won,
      score: this.score,
      terminated: this.terminated,
      truncated: this.truncated,
    }
  }
}
