/**
 * The `shop` environment package: a WebShop-like store over a generated catalog searched with
 * BM25, with the shared projection, an expert, a reference critic and warm-start data.
 */
import { ConfigError, DataError, trySync, type EnvironmentPackage, type Trajectory } from "@icrl/core"
import { Schema } from "effect"
import type { AgenticPackageOptions } from "../household/package.ts"
import { agenticTemplates } from "../critique.ts"
import { episodeRulesOf } from "../episodeRules.ts"
import { agenticRewardRange, parseAction, ProjectionOptions, renderAgentPrompt, renderTrajectory } from "../projection.ts"
import { replayReward } from "../replayReward.ts"
import { shopTrainingDefaults } from "../trainingDefaults.ts"
import { warmStartOf } from "../warmStart.ts"
import { shopCritique } from "./critic.ts"
import { ShopEnvironment } from "./environment.ts"
import { corruptedShopPlan, shopCorruptions, shopExpertPlan } from "./expert.ts"
import { type ShopTask, shopTasks } from "./task.ts"

/**
 * Builds a shop package with the given projection knobs and episode rules.
 *
 * @example
 * const env = makeShopPackage({ projection: { invalid_action_penalty: 0.05 }, maxSteps: 15 })
 */
export const makeShopPackage = (options: AgenticPackageOptions = {}): EnvironmentPackage<ShopTask> => {
  // The page shows every button already: listing them again as actions would double its length.
  // A results page of ten products makes the longest prompts (up to ~1,100 bytes with a retry's
  // tips): cut to 900, the small model's 1,024-byte context keeps room for the whole reply (112).
  // The critic reads 130 characters of each page, enough for the first result's item id.
  const projection = Schema.decodeUnknownSync(ProjectionOptions)(
    { show_admissible: false, prompt_chars: 900, attempt_observation_chars: 130, ...options.projection },
    { onExcessProperty: "error" },
  )
  const rules = episodeRulesOf(options)
  const settings = { ...rules, invalidActionPenalty: projection.invalid_action_penalty }
  const maxTokens = { solver: 112, critic: 160 }
  // A demonstration completion is " " + critique + "\n\n": the critique keeps 3 bytes of the budget free.
  const critique = (task: ShopTask, attempt: Trajectory) => shopCritique(task, attempt.turns.map((t) => t.action), maxTokens.critic - 3)
  const pkg: EnvironmentPackage<ShopTask> = {
    name: "shop",
    description: `WebShop-style store: search a generated catalog (BM25; 840 products at difficulty 1, 5,250 at 2-3), open items, pick options, Buy Now; WebShop reward; ${rules.maxSteps}-turn cap, stop after ${rules.repeatLimit} identical actions`,
    kind: "multi-turn",
    rewardRange: agenticRewardRange(projection),
    maxSteps: rules.maxSteps,
    maxTokens,
    tasks: (split, taskOptions) => trySync(() => shopTasks(split, taskOptions), [ConfigError, DataError]),
    make: (task) => new ShopEnvironment(task, settings),
    reward: replayReward("shop-purchase", (task) => new ShopEnvironment(task, settings)),
    renderPrompt: (context) => renderAgentPrompt(context, projection),
    parseAction,
    renderAttempt: (_task, trajectory) => renderTrajectory(trajectory, projection, { reward: trajectory.score }),
    templates: agenticTemplates,
    trainingDefaults: shopTrainingDefaults,
    expert: (task) => shopExpertPlan(task).map((s) => s.action),
    referenceCritique: critique,
    warmStart: (taskOptions) =>
      warmStartOf(
        {
          pkg,
          expertPlan: shopExpertPlan,
          corrupt: (task, rng) => corruptedShopPlan(task, rng.pick(shopCorruptions), rng),
          critique,
          successCritiqueRate: 0.25,
          refineSuccesses: true,
          copyDrillsPerTask: 2,
        },
        shopTasks,
        taskOptions,
      ),
  }
  return pkg
}

/** The shop package with the default (compact) projection. */
export const shop: EnvironmentPackage<ShopTask> = makeShopPackage()
