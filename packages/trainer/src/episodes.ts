import {
  defaultStops,
  defaultTemplates,
  type EnvironmentPackage,
  type GenerationRequest,
  type RoleTemplates,
  type Task,
  type Trajectory,
  type Turn,
} from "@icrl/core"
import type { TransformerModel } from "./model.ts"
import { generate } from "./sampler.ts"
import type { Tokenizer } from "./tokenizer.ts"

/** How a batch of episodes samples its completions. */
export interface EpisodeSampling {
  readonly temperature: number
  readonly topP?: number
  readonly seed: number
  readonly maxBatchSize?: number
}

/** The role templates of an environment (its overrides on top of the core defaults). */
export const templatesOf = (env: EnvironmentPackage): RoleTemplates => ({ ...defaultTemplates, ...env.templates })

/**
 * Runs one episode per task with the model as the solver, all episodes batched turn by turn
 * (one `generate` per turn). With `guidance[i]`, episode i is the refinement episode: every
 * prompt carries the earlier attempt and the critique.
 *
 * @example
 * const trajectories = runEpisodes(model, tok, env, tasks, { temperature: 0, seed: 1 })
 */
export const runEpisodes = <T extends Task>(
  model: TransformerModel,
  tokenizer: Tokenizer,
  env: EnvironmentPackage<T>,
  tasks: ReadonlyArray<T>,
  sampling: EpisodeSampling,
  guidance?: ReadonlyArray<{ readonly attempt: string; readonly critique: string } | undefined>,
): Array<Trajectory> => {
  const states = tasks.map((task, i) => {
    const environment = env.make(task)
    const reset = environment.reset({ seed: sampling.seed + i, taskId: task.id })
    return {
      task,
      environment,
      observation: reset.observation,
      admissible: reset.info.admissibleActions,
      turns: [] as Array<Turn>,
      totalReward: 0,
      won: false,
      score: 0,
      terminated: false,
      truncated: false,
      done: false,
    }
  })
  for (let turn = 0; turn < Math.max(1, env.maxSteps); turn++) {
    const live = states.map((s, i) => ({ s, i })).filter(({ s }) => !s.done)
    if (live.length === 0) break
    const prompts = live.map(({ s, i }) => {
      const g = guidance?.[i]
      return env.renderPrompt({
        task: s.task,
        observation: s.observation,
        history: s.turns,
        ...(s.admissible === undefined ? {} : { admissibleActions: s.admissible }),
        ...(g === undefined ? {} : { guidance: g }),
      })
    })
    const requests: Array<GenerationRequest> = live.map(({ i }, k) => ({
      prompt: prompts[k] as string,
      maxTokens: env.maxTokens.solver,
      temperature: sampling.temperature,
      ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
      stop: defaultStops.solver,
      seed: sampling.seed * 7919 + i * 131 + turn,
      role: guidance?.[i] === undefined ? "solver" : "refiner",
    }))
    const completions = generate(model, tokenizer, requests, sampling.maxBatchSize === undefined ? {} : { maxBatchSize: sampling.maxBatchSize })
    live.forEach(({ s }, k) => {
      const text = (completions[k] as { text: string }).text
      const parsed = env.parseAction(text)
      const result = s.environment.step(parsed.action)
      s.turns.push({
        prompt: prompts[k] as string,
        completion: text,
        action: parsed.action,
        actionValid: parsed.valid && result.info.actionValid,
        observation: result.observation,
        reward: result.reward,
      })
      s.observation = result.observation
      s.admissible = result.info.admissibleActions
      s.totalReward += result.reward
      s.won = result.info.won
      s.score = result.info.score ?? (result.info.won ? 1 : 0)
      s.terminated = result.terminated
      s.truncated = result.truncated
      s.done = result.terminated || result.truncated || env.kind === "single-turn"
    })
  }
  return states.map((s) => ({
    taskId: s.task.id,
    turns: s.turns,
    totalReward: s.totalReward,
    won: s.won,
    score: s.score,
    terminated: s.terminated,
    truncated: s.truncated || (!s.terminated && s.turns.length >= env.maxSteps),
  }))
}

/**
 * Whether a critique judges the attempt correct: `false` when it says the attempt is wrong
 * (incorrect, wrong, not, mistake, error, should be, ...), `true` when it says correct, right,
 * valid or solved without any of those, `undefined` when it does not say.
 *
 * @example
 * critiqueVerdict("The attempt is incorrect: 3*4 is 12.") // false
 */
export const critiqueVerdict = (critique: string): boolean | undefined => {
  const text = critique.toLowerCase()
  if (/\b(incorrect|wrong|not|mistakes?|errors?|fails?|failed|invalid|instead|should (?:be|have))\b/.test(text)) return false
  if (/\b(correct|right|valid|solved|succeeds?|succeeded)\b/.test(text)) return true
  return undefined
}

/** Held-out accuracy of the three roles. */
export interface RoleEvaluation {
  readonly tasks: number
  /** Fraction of tasks the solver wins without a critique (greedy). */
  readonly solverAccuracy: number
  /** Fraction of the model's critiques whose verdict matches whether the attempt won. */
  readonly critiqueAccuracy: number
  /** Fraction of tasks won by the refinement that follows the model's own critique. */
  readonly refinedAccuracy: number
}

/**
 * Greedy solve, critique and refine on the given tasks with the one model in all roles.
 *
 * @example
 * const ev = evaluateRoles(model, tok, env, env.tasks("test", { seed: 1, count: 64 }), 1)
 */
export const evaluateRoles = <T extends Task>(
  model: TransformerModel,
  tokenizer: Tokenizer,
  env: EnvironmentPackage<T>,
  tasks: ReadonlyArray<T>,
  seed: number,
): RoleEvaluation => {
  if (tasks.length === 0) return { tasks: 0, solverAccuracy: 0, critiqueAccuracy: 0, refinedAccuracy: 0 }
  const sampling = { temperature: 0, seed }
  const attempts = runEpisodes(model, tokenizer, env, tasks, sampling)
  const templates = templatesOf(env)
  const attemptTexts = tasks.map((task, i) => env.renderAttempt(task, attempts[i] as Trajectory))
  const critiques = generate(
    model,
    tokenizer,
    tasks.map((task, i) => ({
      prompt: templates.critic(task.text, attemptTexts[i] as string),
      maxTokens: env.maxTokens.critic,
      temperature: 0,
      stop: defaultStops.critic,
      seed: seed + i,
      role: "critic" as const,
    })),
  ).map((c) => c.text)
  const refined = runEpisodes(
    model,
    tokenizer,
    env,
    tasks,
    sampling,
    tasks.map((_, i) => ({ attempt: attemptTexts[i] as string, critique: critiques[i] as string })),
  )
  const n = tasks.length
  const solved = attempts.filter((t) => t.won).length
  const judged = attempts.filter((t, i) => critiqueVerdict(critiques[i] as string) === t.won).length
  const refinedWins = refined.filter((t) => t.won).length
  return { tasks: n, solverAccuracy: solved / n, critiqueAccuracy: judged / n, refinedAccuracy: refinedWins / n }
}
