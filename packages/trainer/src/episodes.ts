import { critique, defaultStops, EpisodeRecorder, mixSeed, runEpisodes, type EnvironmentPackage, type EpisodeError, type Policy, type Task } from "@icrl/core"
import { Effect } from "effect"
import type { TransformerModel } from "./model.ts"
import { LocalPolicy } from "./policy.ts"
import type { Tokenizer } from "./tokenizer.ts"

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
  /**
   * Multi-turn environments with an expert: fraction of the expert's steps on the tasks where the
   * model's greedy action, from the state the expert reached, is the expert's action.
   */
  readonly expertStepAccuracy?: number
  /** The same per turn: `[matched, steps]` at turn 0, 1, ... */
  readonly expertStepAccuracyByTurn?: ReadonlyArray<readonly [number, number]>
}

/**
 * How often the model takes the expert's action from the expert's own states (greedy, one
 * generate call per batch of prompts): the per-step view of the solver that episode success
 * hides (one wrong step fails an episode). Undefined for single-turn environments and for
 * environments without an expert.
 *
 * @example
 * const accuracy = yield* expertStepAccuracy(new LocalPolicy(model, tok), household, tasks)
 * accuracy?.overall // e.g. 0.62
 */
export const expertStepAccuracy = <T extends Task>(
  policy: Policy,
  env: EnvironmentPackage<T>,
  tasks: ReadonlyArray<T>,
): Effect.Effect<{ readonly overall: number; readonly byTurn: ReadonlyArray<readonly [number, number]> } | undefined, EpisodeError> =>
  Effect.gen(function* () {
    const expert = env.expert
    if (env.kind !== "multi-turn" || expert === undefined) return undefined
    const steps: Array<{ readonly prompt: string; readonly action: string; readonly turn: number }> = []
    for (const task of tasks) {
      const instance = env.make(task)
      const episode = new EpisodeRecorder(task, yield* instance.reset({ seed: 0 }))
      for (const action of expert.call(env, task)) {
        if (episode.done) break
        const prompt = env.renderPrompt(episode.context())
        steps.push({ prompt, action, turn: episode.turns.length })
        episode.record(prompt, action, { action, valid: true }, yield* instance.step(action))
      }
    }
    if (steps.length === 0) return undefined
    const completions = yield* policy.generate(
      steps.map((s) => ({ prompt: s.prompt, maxTokens: env.maxTokens.solver, temperature: 0, topP: 1, stop: defaultStops.solver, role: "solver" as const })),
    )
    const byTurn: Array<[number, number]> = []
    let matched = 0
    steps.forEach((s, i) => {
      const parsed = env.parseAction(completions[i]!.text)
      const hit = parsed.valid && sameAction(parsed.action, s.action)
      const row = (byTurn[s.turn] ??= [0, 0])
      row[0] += hit ? 1 : 0
      row[1] += 1
      matched += hit ? 1 : 0
    })
    return { overall: matched / steps.length, byTurn }
  })

/** Two actions are the same up to case and spacing. */
const sameAction = (a: string, b: string): boolean => {
  const norm = (text: string) => text.trim().toLowerCase().replace(/\s+/g, " ")
  return norm(a) === norm(b)
}

/**
 * Greedy solve, critique and refine on the given tasks with the one model in all roles
 * (the core rollout with the model as a LocalPolicy).
 *
 * @example
 * const ev = yield* evaluateRoles(model, tok, env, tasks, 1)
 */
export const evaluateRoles = <T extends Task>(
  model: TransformerModel,
  tokenizer: Tokenizer,
  env: EnvironmentPackage<T>,
  tasks: ReadonlyArray<T>,
  seed: number,
): Effect.Effect<RoleEvaluation, EpisodeError> =>
  Effect.gen(function* () {
    if (tasks.length === 0) return { tasks: 0, solverAccuracy: 0, critiqueAccuracy: 0, refinedAccuracy: 0 }
    const policy = new LocalPolicy(model, tokenizer)
    const greedy = { temperature: 0, topP: 1 }
    const specs = tasks.map((task, i) => ({ task, envSeed: mixSeed(seed, i), seed: mixSeed(seed, i, 0) }))
    const attempts = yield* runEpisodes(env, policy, specs, greedy)
    const critiques = (yield* critique(env, { kind: "policy", policy }, attempts.map((episode, i) => ({ episode, seed: mixSeed(seed, i, 1) })), greedy)).map(
      (c) => c.text,
    )
    const refined = yield* runEpisodes(
      env,
      policy,
      attempts.map((a, i) => ({
        ...a.spec,
        guidance: { attempt: env.renderAttempt(a.spec.task, a.trajectory), critique: critiques[i]! },
      })),
      greedy,
    )
    const n = tasks.length
    const solved = attempts.filter((a) => a.trajectory.won).length
    const judged = attempts.filter((a, i) => critiqueVerdict(critiques[i]!) === a.trajectory.won).length
    const refinedWins = refined.filter((r) => r.trajectory.won).length
    const steps = yield* expertStepAccuracy(policy, env, tasks)
    return {
      tasks: n,
      solverAccuracy: solved / n,
      critiqueAccuracy: judged / n,
      refinedAccuracy: refinedWins / n,
      ...(steps === undefined ? {} : { expertStepAccuracy: steps.overall, expertStepAccuracyByTurn: steps.byTurn }),
    }
  })
