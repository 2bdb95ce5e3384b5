/**
 * The household Environment: one episode over a task's world with the episode rules (turn cap,
 * repeated-action stop), the invalid-action penalty, and ALFWorld's "Nothing happens." for
 * anything not admissible.
 */
import { TaskNotFound, type Environment, type ResetOptions, type ResetResult, type StepResult } from "@icrl/core"
import { Effect } from "effect"
import { EpisodeClock, type EpisodeRules } from "../episodeRules.ts"
import { episodeOverStep, normalizeAction, penalizedReward } from "../projection.ts"
import { householdLayout, type HouseholdTask, householdTaskFromId } from "./task.ts"
import { HouseholdWorld, NOTHING_HAPPENS } from "./world.ts"

/** Settings an episode runs under: the episode rules and the invalid-action penalty. */
export interface EpisodeSettings extends EpisodeRules {
  readonly invalidActionPenalty: number
}

/** Actions longer than this are rejected without being parsed. */
const maxRawAction = 1000

/**
 * A household episode. `reset` regenerates the task's initial state (the seed does not change
 * the world: a task is one fixed world); `step` never throws.
 *
 * @example
 * const env = new HouseholdEnvironment(task, { maxSteps: 30, repeatLimit: 3, invalidActionPenalty: 0.1 })
 * env.restart().observation // "You are in the middle of a room. ..."
 */
export class HouseholdEnvironment implements Environment {
  private task: HouseholdTask
  private world: HouseholdWorld
  private readonly clock: EpisodeClock
  private terminated = false
  private truncated = false
  private won = false

  constructor(
    task: HouseholdTask,
    private readonly settings: EpisodeSettings,
  ) {
    this.task = task
    this.world = new HouseholdWorld(householdLayout(task))
    this.clock = new EpisodeClock(settings)
  }

  reset(options: ResetOptions): Effect.Effect<ResetResult, TaskNotFound> {
    return Effect.suspend(() => {
      if (options.taskId !== undefined && options.taskId !== this.task.id) {
        const next = householdTaskFromId(options.taskId)
        if (next === undefined) return Effect.fail(new TaskNotFound({ env: "household", taskId: options.taskId }))
        this.task = next
        this.world = new HouseholdWorld(householdLayout(next))
      }
      return Effect.succeed(this.restart())
    })
  }

  /** Back to the initial state of the current task, synchronously (what `reset` runs). */
  restart(): ResetResult {
    this.world.reset()
    this.clock.reset()
    this.terminated = false
    this.truncated = false
    this.won = false
    return {
      observation: this.world.initialObservation(),
      info: { won: false, actionValid: true, admissibleActions: this.world.admissible(), score: 0, steps: 0 },
    }
  }

  step(action: string): Effect.Effect<StepResult> {
    return Effect.sync(() => this.advance(action))
  }

  /** One step, synchronously (what `step` runs): the fast path for scripted replays. */
  advance(action: string): StepResult {
    if (this.terminated || this.truncated) return episodeOverStep(this.terminated, this.truncated, { won: this.won, score: this.won ? 1 : 0, steps: this.clock.steps })
    const text = typeof action === "string" && action.length <= maxRawAction ? normalizeAction(action) : ""
    const stop = this.clock.tick(text)
    const result = text === "" ? { valid: false, observation: NOTHING_HAPPENS } : this.world.act(text)
    this.won = result.valid && this.world.won()
    this.terminated = this.won
    this.truncated = !this.won && stop
    const ended = this.terminated || this.truncated
    return {
      observation: result.observation,
      reward: penalizedReward(this.won ? 1 : 0, result.valid, this.settings.invalidActionPenalty),
      terminated: this.terminated,
      truncated: this.truncated,
      info: {
        won: this.won,
        actionValid: result.valid,
        admissibleActions: ended ? [] : this.world.admissible(),
        score: this.won ? 1 : 0,
        steps: this.clock.steps,
      },
    }
  }

  /** The current world, for tests and the reference critic. */
  get state(): HouseholdWorld {
    return this.world
  }
}
