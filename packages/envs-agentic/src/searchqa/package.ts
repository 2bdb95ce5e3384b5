/**
 * The `searchqa` environment package: multi-hop question answering with a search tool over a
 * generated knowledge corpus (or a local corpus file), with the shared projection, an expert,
 * a reference critic and warm-start data.
 */
import { ConfigError, DataError, trySync, type EnvironmentPackage } from "@icrl/core"
import { Effect, Schema } from "effect"
import { agenticTemplates } from "../critique.ts"
import { defaultEpisodeRules } from "../episodeRules.ts"
import { agenticRewardRange, parseAction, ProjectionOptions, renderAgentPrompt, renderTrajectory } from "../projection.ts"
import { replayReward } from "../replayReward.ts"
import { copyDrillTrainingDefaults } from "../trainingDefaults.ts"
import { warmStartOf } from "../warmStart.ts"
import { searchQaCritique } from "./critic.ts"
import { SearchQaEnvironment, type SearchQaSettings } from "./environment.ts"
import { corruptedSearchQaPlan, searchQaCorruptionsFor, searchQaExpertPlan } from "./expert.ts"
import { type SearchQaTask, searchQaTasks } from "./task.ts"

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** The searchqa knobs: search budget, passages per search, passage length, repeated-action stop. */
export const SearchQaConfig = Schema.Struct({
  /** Searches allowed per episode; the turn cap is this plus one (the answer). */
  maxSearches: withDefault(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 50 })), 4),
  /** Passages shown per search. */
  topK: withDefault(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 20 })), 3),
  /** Longest passage shown, title included (characters). */
  passageChars: withDefault(Schema.Int.check(Schema.isBetween({ minimum: 20, maximum: 4000 })), 160),
  /** Stop an episode after this many identical actions in a row (0: never). */
  repeatLimit: withDefault(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), defaultEpisodeRules.repeatLimit),
})
export type SearchQaConfig = typeof SearchQaConfig.Type

/** Construction options of the searchqa package. */
export interface SearchQaPackageOptions {
  /** Projection knobs (snake_case, as in {@link ProjectionOptions}); unknown or bad values throw. */
  readonly projection?: Readonly<Record<string, unknown>>
  /** Searches per episode (default 4). */
  readonly maxSearches?: number
  /** Passages per search (default 3). */
  readonly topK?: number
  /** Longest passage shown (default 160 characters). */
  readonly passageChars?: number
  /** Stop an episode after this many identical actions in a row (default 3; 0: never). */
  readonly repeatLimit?: number
}

/**
 * Builds a searchqa package with the given knobs.
 *
 * @example
 * const env = makeSearchQaPackage({ maxSearches: 6, topK: 5 })
 * env.maxSteps // 7
 */
export const makeSearchQaPackage = (options: SearchQaPackageOptions = {}): EnvironmentPackage<SearchQaTask> => {
  const projection = Schema.decodeUnknownSync(ProjectionOptions)(options.projection ?? {}, { onExcessProperty: "error" })
  const { projection: _, ...knobs } = options
  const config = Schema.decodeUnknownSync(SearchQaConfig)(knobs, { onExcessProperty: "error" })
  const maxSteps = config.maxSearches + 1
  const settings: SearchQaSettings = { ...config, maxSteps, invalidActionPenalty: projection.invalid_action_penalty }
  const maxTokens = { solver: 112, critic: 160 }
  // A demonstration completion is " " + critique + "\n\n": the critique keeps 3 bytes of the budget free.
  const critique = (task: SearchQaTask, actions: ReadonlyArray<string>) => searchQaCritique(task, actions, settings, maxTokens.critic - 3)
  const pkg: EnvironmentPackage<SearchQaTask> = {
    name: "searchqa",
    description: `Multi-hop search QA: search[query] shows the top ${config.topK} BM25 passages of a generated corpus (1, 1-2, 1-3 hops at difficulty 1, 2, 3; or corpus=PATH with questions=PATH), answer[text] ends; exact-match reward, token F1 score; ${config.maxSearches} searches, stop after ${config.repeatLimit} identical actions`,
    kind: "multi-turn",
    rewardRange: agenticRewardRange(projection),
    maxSteps,
    maxTokens,
    tasks: (split, taskOptions) => trySync(() => searchQaTasks(split, taskOptions), [ConfigError, DataError]),
    make: (task) => new SearchQaEnvironment(task, settings),
    reward: replayReward("searchqa-answer", (task) => new SearchQaEnvironment(task, settings)),
    renderPrompt: (context) => renderAgentPrompt(context, projection),
    parseAction,
    renderAttempt: (_task, trajectory) => renderTrajectory(trajectory, projection, { reward: trajectory.won ? 1 : 0 }),
    templates: agenticTemplates,
    trainingDefaults: copyDrillTrainingDefaults,
    expert: (task) => searchQaExpertPlan(task, config.maxSearches).map((s) => s.action),
    referenceCritique: (task, attempt) => critique(task, attempt.turns.map((t) => t.action)),
    warmStart: (taskOptions) =>
      warmStartOf(
        {
          pkg,
          expertPlan: (task) => searchQaExpertPlan(task, config.maxSearches),
          corrupt: (task, rng) => corruptedSearchQaPlan(task, rng.pick(searchQaCorruptionsFor(task)), config.maxSearches, rng),
          critique: (task, trajectory) => critique(task, trajectory.turns.map((t) => t.action)),
          successCritiqueRate: 0.25,
          copyDrillsPerTask: 2,
        },
        searchQaTasks,
        taskOptions,
      ),
  }
  return pkg
}

/** The searchqa package with the default knobs (4 searches, top 3 passages, compact projection). */
export const searchqa: EnvironmentPackage<SearchQaTask> = makeSearchQaPackage()
