/**
 * The `household` environment package: ALFWorld's text interface over procedurally generated
 * rooms, with the shared verl-agent projection, an expert, a reference critic and warm-start data.
 */
import { ConfigError, DataError, trySync, type EnvironmentPackage, type Trajectory } from "@icrl/core"
import { Schema } from "effect"
import { agenticTemplates } from "../critique.ts"
import { episodeRulesOf } from "../episodeRules.ts"
import { agenticRewardRange, parseAction, ProjectionOptions, renderAgentPrompt, renderTrajectory } from "../projection.ts"
import { replayReward } from "../replayReward.ts"
import { agenticTrainingDefaults } from "../trainingDefaults.ts"
import { warmStartOf } from "../warmStart.ts"
import { HouseholdEnvironment } from "./environment.ts"
import { corruptedPlan, corruptionsFor, householdExpertPlan } from "./expert.ts"
import { householdCritique } from "./critic.ts"
import { householdLayout, type HouseholdTask, householdTasks } from "./task.ts"

/** Construction options shared by the agentic packages. */
export interface AgenticPackageOptions {
  /** Projection knobs (snake_case, as in {@link ProjectionOptions}); unknown or bad values throw. */
  readonly projection?: Readonly<Record<string, unknown>>
  /** Turn cap: most steps per episode, invalid ones included (default 30). */
  readonly maxSteps?: number
  /** Stop an episode after this many identical actions in a row (default 3; 0: never). */
  readonly repeatLimit?: number
}

const decodeProjection = (input: Readonly<Record<string, unknown>> | undefined): ProjectionOptions =>
  Schema.decodeUnknownSync(ProjectionOptions)(input ?? {}, { onExcessProperty: "error" })

/**
 * Builds a household package with the given projection knobs and episode rules.
 *
 * @example
 * const env = makeHouseholdPackage({ projection: { history_length: 4, invalid_action_penalty: 0 }, maxSteps: 50 })
 */
export const makeHouseholdPackage = (options: AgenticPackageOptions = {}): EnvironmentPackage<HouseholdTask> => {
  const projection = decodeProjection(options.projection)
  const rules = episodeRulesOf(options)
  const settings = { ...rules, invalidActionPenalty: projection.invalid_action_penalty }
  const maxTokens = { solver: 88, critic: 176 }
  // A demonstration completion is " " + critique + "\n\n": the critique keeps 3 bytes of the budget free.
  const critique = (task: HouseholdTask, attempt: Trajectory) => householdCritique(task, attempt.turns.map((t) => t.action), maxTokens.critic - 3)
  const pkg: EnvironmentPackage<HouseholdTask> = {
    name: "household",
    description: `ALFWorld-style household text world: pick, clean, heat, cool, look and pick-two tasks in generated rooms (difficulty 1-3); reward 1 on success; ${rules.maxSteps}-turn cap, stop after ${rules.repeatLimit} identical actions`,
    kind: "multi-turn",
    rewardRange: agenticRewardRange(projection),
    maxSteps: rules.maxSteps,
    maxTokens,
    tasks: (split, taskOptions) => trySync(() => householdTasks(split, taskOptions), [ConfigError, DataError]),
    make: (task) => new HouseholdEnvironment(task, settings),
    reward: replayReward("household-goal", (task) => new HouseholdEnvironment(task, settings)),
    renderPrompt: (context) => renderAgentPrompt(context, projection),
    parseAction,
    renderAttempt: (task, trajectory) =>
      renderTrajectory(trajectory, projection, { reward: trajectory.won ? 1 : 0, header: `Room: ${householdLayout(task).receptacles.map((r) => r.name).join(", ")}` }),
    templates: agenticTemplates,
    trainingDefaults: agenticTrainingDefaults,
    expert: (task) => householdExpertPlan(task).map((s) => s.action),
    referenceCritique: critique,
    warmStart: (taskOptions) =>
      warmStartOf(
        {
          pkg,
          expertPlan: householdExpertPlan,
          corrupt: (task, rng) => corruptedPlan(task, rng.pick(corruptionsFor(householdLayout(task))), rng),
          critique,
          successCritiqueRate: 0.25,
        },
        householdTasks,
        taskOptions,
      ),
  }
  return pkg
}

/** The household package with the default (compact) projection. */
export const household: EnvironmentPackage<HouseholdTask> = makeHouseholdPackage()
