import type { Effect } from "effect"
import type { Environment } from "./Environment.ts"
import type { ConfigError, DataError } from "./Errors.ts"
import type { Reward } from "./Reward.ts"
import type { RoleTemplates } from "./Role.ts"
import type { Split, Task } from "./Task.ts"
import type { TrainingDefaults } from "./TrainingDefaults.ts"
import type { Trajectory, Turn } from "./Trajectory.ts"

/** What a prompt is rendered from at one turn of an episode. */
export interface TurnContext<T extends Task = Task> {
  readonly task: T
  readonly observation: string
  readonly history: ReadonlyArray<Turn>
  readonly admissibleActions?: ReadonlyArray<string>
  /** Present on the refinement episode: the earlier attempt and the critique of it. */
  readonly guidance?: { readonly attempt: string; readonly critique: string }
}

/** One supervised example for the warm start: the model learns `completion` after `prompt`. */
export interface Demonstration {
  readonly role: "solver" | "critic" | "refiner"
  readonly prompt: string
  readonly completion: string
  /**
   * A copy drill rather than a task step (the completion repeats words of the prompt): the
   * warm start trains the drills first, then mixes a third as many as there are task
   * demonstrations among them (a quarter of the mix), so that a model trained from scratch can copy names and ids
   * from its prompt into an action.
   */
  readonly drill?: boolean
}

/**
 * Whether a demonstration is a copy drill (not a step of a task: role counts and prompt
 * measurements leave drills out).
 *
 * @example
 * demos.filter((d) => d.role === "solver" && !isDrill(d)) // the solver's task demonstrations
 */
export const isDrill = (demonstration: Demonstration): boolean => demonstration.drill === true

export interface TaskOptions {
  readonly seed: number
  readonly count: number
  /** Skip this many tasks of the split's deterministic sequence. */
  readonly offset?: number
  /** Environment-specific knobs (difficulty, data path, ...), as given on the command line. */
  readonly options?: Readonly<Record<string, string>>
}

/**
 * What an environment package exports so that `--env NAME` finds it.
 * Tasks are deterministic per seed; the train and test splits never share a task.
 */
export interface EnvironmentPackage<T extends Task = Task> {
  readonly name: string
  readonly description: string
  /** `single-turn`: the episode is one step whose action is the whole completion. */
  readonly kind: "single-turn" | "multi-turn"
  /** Inclusive bounds of one step's reward. */
  readonly rewardRange: readonly [number, number]
  /** The step cap (1 for single-turn). */
  readonly maxSteps: number
  /** Token budget for one completion of each role on this environment. */
  readonly maxTokens: { readonly solver: number; readonly critic: number }
  /** Deterministic tasks of a split; bad options fail with a ConfigError, unreadable data with a DataError. */
  tasks(split: Split, options: TaskOptions): Effect.Effect<ReadonlyArray<T>, ConfigError | DataError>
  /** A fresh environment for the task; run `reset` before `step`. */
  make(task: T): Environment
  /** The verifier the environment's step rewards come from. */
  readonly reward: Reward<T>
  /** The prompt the solver sees at one turn (with `guidance`, the refinement prompt). */
  renderPrompt(context: TurnContext<T>): string
  /** The action a completion stands for; single-turn envs return the completion. */
  parseAction(completion: string): { readonly action: string; readonly valid: boolean }
  /** The attempt text shown to the critic: the answer, or the trajectory's actions and observations. */
  renderAttempt(task: T, trajectory: Trajectory): string
  /** Overrides of the core role templates. */
  readonly templates?: Partial<RoleTemplates>
  /** The warm start and RL knobs this environment trains with unless the user says otherwise. */
  readonly trainingDefaults?: TrainingDefaults
  /** Expert actions that solve the task (single-turn: one completion). */
  expert?(task: T): ReadonlyArray<string>
  /** An oracle critic for warm-start data and the external-critic baseline; never used by ICRL training. */
  referenceCritique?(task: T, attempt: Trajectory): string
  /** Warm-start demonstrations for the three roles, deterministic per seed. */
  warmStart?(options: TaskOptions): Effect.Effect<ReadonlyArray<Demonstration>, ConfigError | DataError>
}

/** The `icrl` field of a workspace package's `package.json` that makes its environments discoverable. */
export interface EnvironmentManifest {
  readonly environments: ReadonlyArray<string>
}
