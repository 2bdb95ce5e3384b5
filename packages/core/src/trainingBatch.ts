import { Effect } from "effect"
import type { AlgorithmConfig } from "./AlgorithmConfig.ts"
import { mean } from "./advantages.ts"
import { criticReward, type CritiqueOutcome } from "./criticReward.ts"
import { shouldCritique } from "./critiqueGate.ts"
import type { EnvironmentPackage } from "./EnvironmentPackage.ts"
import { groupIndices, roleWiseAdvantages, type TaggedReward } from "./grouping.ts"
import { anchorOf, stepAdvantages } from "./stepAdvantages.ts"
import type { Policy, TrainingSample } from "./Policy.ts"
import { mixSeed } from "./Rng.ts"
import { critiqueAndRefine, runEpisodes, type Critique, type CriticSource, type Episode, type EpisodeError, type EpisodeSpec } from "./rollout.ts"
import type { Task } from "./Task.ts"
import { keepsRefinements, shouldTransfer } from "./transfer.ts"

/** What one rollout step measured (on training tasks, with sampling). */
export interface RolloutMetrics {
  readonly solverReward: number
  /** Won rate of the round-1 (critique-free) attempts. */
  readonly critiqueFreeAccuracy: number
  /** Fraction of round-1 attempts whose episode succeeded within max_rounds rounds. */
  readonly successWithinRounds: number
  /** Won rate of the refinements (0 when there are none). */
  readonly critiqueAssistedAccuracy: number
  /** Fraction of critiqued attempts whose refinement went from wrong to right. */
  readonly deltaIC: number
  /** Fraction of critiqued attempts whose refinement went from right to wrong. */
  readonly deltaCI: number
  /** Mean reward gain r' - r of the refinements over the attempts they refine. */
  readonly criticGain: number
  /** Mean critic reward (critic_reward mode). */
  readonly criticReward: number
  readonly critiqueTokens: number
  /** Refinements trained under the critique-free prompt. */
  readonly transferred: number
  readonly refinements: number
  /** Tasks with refinements whose refinements and critiques the transfer mask dropped. */
  readonly maskedTasks: number
  /** Tokens the policy generated in this step (all roles). */
  readonly generatedTokens: number
}

export interface TrainingBatch {
  readonly samples: ReadonlyArray<TrainingSample>
  readonly metrics: RolloutMetrics
}

/** One attempt of an episode: round 1 is the critique-free attempt, round k+1 refines round k. */
interface Attempt<T extends Task> {
  readonly episode: Episode<T>
  readonly round: number
  /** Index of the round-1 attempt this one descends from. */
  readonly root: number
  /** Index (in the attempt list) of the attempt this one refines, for rounds 2+. */
  readonly parent?: number
  /** The critique that guided it, for rounds 2+. */
  readonly critique?: Critique
  critiqued: boolean
}

const tokensOf = (episodes: ReadonlyArray<Episode>): number =>
  episodes.reduce((a, e) => a + e.turns.reduce((b, t) => b + t.completion.tokenIds.length, 0), 0)

/**
 * The critic a config's `critic_source` names: the policy itself, a frozen copy of the initial
 * policy (`frozen`, which the caller provides), the environment's reference critic, or blank text.
 *
 * @example
 * criticSourceOf(config, policy) // { kind: "policy", policy }
 */
export const criticSourceOf = (config: Pick<AlgorithmConfig, "critic_source">, policy: Policy, frozen?: Policy): CriticSource => {
  switch (config.critic_source) {
    case "policy":
      return { kind: "policy", policy }
    case "frozen":
      if (frozen === undefined) throw new RangeError("critic_source frozen needs the frozen critic policy")
      return { kind: "policy", policy: frozen }
    case "reference":
      return { kind: "reference" }
    case "blank":
      return { kind: "blank" }
  }
}

/**
 * One rollout step on a batch of tasks (DESIGN.md §4, as the reference runs it): G solver
 * attempts per task; then, for up to max_rounds - 1 more rounds, a critique of each attempt the
 * gate selects (`failed`: unsuccessful ones) and a refinement from the same initial state;
 * critic rewards; advantages per (task, round, role) group; the transfer mask; and the training
 * samples, with transferred refinements re-rendered under the critique-free prompt. Calls
 * `generate` once per role per round (per turn). `frozenCritic` writes the critiques when
 * critic_source is `frozen`.
 *
 * @example
 * const { samples, metrics } = yield* collectTrainingBatch(env, policy, tasks, config, step)
 */
export const collectTrainingBatch = <T extends Task>(
  env: EnvironmentPackage<T>,
  policy: Policy,
  tasks: ReadonlyArray<T>,
  config: AlgorithmConfig,
  step: number,
  options: { readonly invalidPenalty?: number; readonly frozenCritic?: Policy } = {},
): Effect.Effect<TrainingBatch, EpisodeError> =>
  Effect.gen(function* () {
    const sampling = { temperature: config.temperature, topP: config.top_p }
    const run = options.invalidPenalty === undefined ? {} : { invalidPenalty: options.invalidPenalty }
    const critic = criticSourceOf(config, policy, options.frozenCritic)
    const G = config.rollout_n
    const M = config.critiques_per_attempt
    const base = mixSeed(config.seed, step)
    const solverSpecs: Array<EpisodeSpec<T>> = []
    tasks.forEach((task, k) => {
      for (let g = 0; g < G; g++) solverSpecs.push({ task, envSeed: mixSeed(base, k), seed: mixSeed(base, k, g, 0) })
    })
    const firsts = yield* runEpisodes(env, policy, solverSpecs, sampling, run)
    const attempts: Array<Attempt<T>> = firsts.map((episode, i) => ({ episode, round: 1, root: i, critiqued: false }))

    // Rounds 2..max_rounds: critique what the gate selects, refine from the same initial state.
    let current = attempts.map((_, i) => i)
    for (let round = 1; round < config.max_rounds && current.length > 0; round++) {
      const selected = current.filter((i) => shouldCritique(config.critique_attempts, attempts[i]!.episode.trajectory.won))
      const jobs = selected.flatMap((i) =>
        Array.from({ length: M }, (_, m) => {
          const episode = attempts[i]!.episode
          return { parent: i, episode, critiqueSeed: mixSeed(episode.spec.seed, 1, m), refineSeed: mixSeed(episode.spec.seed, 2, m) }
        }),
      )
      const { critiques, refinements } = yield* critiqueAndRefine(env, policy, critic, jobs, sampling, run)
      for (const i of selected) attempts[i]!.critiqued = true
      current = refinements.map((episode, j) => {
        const parent = attempts[jobs[j]!.parent]!
        return attempts.push({ episode, round: round + 1, root: parent.root, parent: jobs[j]!.parent, critique: critiques[j]!, critiqued: false }) - 1
      })
    }

    const refined = attempts.filter((a): a is Attempt<T> & { parent: number; critique: Critique } => a.parent !== undefined)
    const outcomes: Array<CritiqueOutcome> = refined.map((a) => ({ before: attempts[a.parent]!.episode.reward, after: a.episode.reward, won: a.episode.trajectory.won }))
    const critiqueTokens = refined.map((a) => a.critique.completion?.tokenIds.length ?? 0)
    const criticRewards = outcomes.map((o, j) => criticReward(config.critic_reward, o, config.critic_length_cost, critiqueTokens[j]))
    const transfer = outcomes.map((o) => shouldTransfer(config.transfer, o))
    // The transfer mask, per task: episodes end at the attempts that were not critiqued.
    const taskOf = (a: Attempt<T>) => a.episode.spec.task.id
    const kept = new Map<string, boolean>()
    for (const task of new Set(attempts.map(taskOf))) {
      const ends = attempts.filter((a) => taskOf(a) === task && !a.critiqued).map((a) => ({ reward: a.episode.reward, won: a.episode.trajectory.won }))
      kept.set(task, !config.use_transfer_mask || keepsRefinements(ends, config.transfer_mask_min_mean))
    }
    const trainsCritic = critic.kind === "policy" && config.critic_source === "policy" && !config.freeze_critic

    // Advantages: solver groups (round-1 attempts; transferred refinements), critic groups, refiner groups.
    const tagged: Array<TaggedReward> = []
    const tag = (a: Attempt<T>, role: TaggedReward["role"], reward: number, round = a.round) =>
      tagged.push({ taskId: taskOf(a), round, role, reward }) - 1
    const solverIdx = firsts.map((_, i) => tag(attempts[i]!, "solver", attempts[i]!.episode.reward))
    const transferIdx = refined.map((a, j) => (transfer[j] ? tag(a, "solver", a.episode.reward) : -1))
    const criticIdx = refined.map((a, j) => (trainsCritic ? tag(a, "critic", criticRewards[j]!, a.round - 1) : -1))
    const refinerIdx = refined.map((a) => (config.train_refiner ? tag(a, "refiner", a.episode.reward) : -1))
    const advantages = roleWiseAdvantages(tagged, {
      estimator: config.adv_estimator,
      epsilon: config.adv_epsilon,
      key: config.adv_group_key,
      rolewise: config.rolewise_norm,
      ...(config.use_pseudo_reward ? { pseudoReward: config.pseudo_reward } : {}),
    })

    // Step-level terms (step_advantage_weight > 0): per turn, within the episodes of one
    // advantage group of solver samples (a task's round-1 attempts; its transferred refinements of a round).
    const stepTerm = new Map<Attempt<T>, ReadonlyArray<number>>()
    if (config.step_advantage_weight > 0) {
      const trained = [...attempts.slice(0, firsts.length), ...refined.filter((a, j) => transferIdx[j]! >= 0 && kept.get(taskOf(a)))]
      const options = { gamma: config.step_gamma, estimator: config.adv_estimator, epsilon: config.adv_epsilon }
      for (const members of groupIndices(trained.map((a) => `${taskOf(a)}\u0000${a.round}`))) {
        const group = members.map((i) => trained[i]!)
        const terms = stepAdvantages(group.map((a) => a.episode.turns.map((t, k) => ({ anchor: anchorOf(t.context), reward: a.episode.trajectory.turns[k]?.reward ?? 0 }))), options)
        group.forEach((a, k) => stepTerm.set(a, terms[k]!.map((x) => config.step_advantage_weight * x)))
      }
    }
    const turnAdvantage = (a: Attempt<T>, advantage: number, turn: number) => advantage + (stepTerm.get(a)?.[turn] ?? 0)

    const samples: Array<TrainingSample> = []
    const push = (sample: TrainingSample) => {
      if (sample.tokenIds.length > 0) samples.push(sample)
    }
    firsts.forEach((e, i) => {
      e.turns.forEach((t, k) =>
        push({ role: "solver", prompt: t.prompt, tokenIds: t.completion.tokenIds, oldLogprobs: t.completion.logprobs, advantage: turnAdvantage(attempts[i]!, advantages[solverIdx[i]!]!, k), transferred: false }),
      )
    })
    let transferred = 0
    refined.forEach((a, j) => {
      if (!kept.get(taskOf(a))) return
      const completion = a.critique.completion
      if (criticIdx[j]! >= 0 && completion !== undefined)
        push({ role: "critic", prompt: a.critique.prompt, tokenIds: completion.tokenIds, oldLogprobs: completion.logprobs, advantage: advantages[criticIdx[j]!]!, transferred: false })
      if (transferIdx[j]! >= 0) transferred++
      a.episode.turns.forEach((t, k) => {
        if (transferIdx[j]! >= 0) {
          const { guidance: _guidance, ...free } = t.context
          push({ role: "solver", prompt: env.renderPrompt({ ...free, task: a.episode.spec.task }), tokenIds: t.completion.tokenIds, oldLogprobs: t.completion.logprobs, advantage: turnAdvantage(a, advantages[transferIdx[j]!]!, k), transferred: true })
        }
        if (refinerIdx[j]! >= 0)
          push({ role: "refiner", prompt: t.prompt, tokenIds: t.completion.tokenIds, oldLogprobs: t.completion.logprobs, advantage: advantages[refinerIdx[j]!]!, transferred: false })
      })
    })

    const wonWithin = firsts.map((_, i) => attempts.some((a) => a.root === i && a.episode.trajectory.won))
    const pairs = refined.map((a) => ({ was: attempts[a.parent]!.episode.trajectory.won, now: a.episode.trajectory.won }))
    const metrics: RolloutMetrics = {
      solverReward: mean(firsts.map((e) => e.reward)),
      critiqueFreeAccuracy: mean(firsts.map((e) => (e.trajectory.won ? 1 : 0))),
      successWithinRounds: mean(wonWithin.map((w) => (w ? 1 : 0))),
      critiqueAssistedAccuracy: mean(refined.map((a) => (a.episode.trajectory.won ? 1 : 0))),
      deltaIC: mean(pairs.map((p) => (!p.was && p.now ? 1 : 0))),
      deltaCI: mean(pairs.map((p) => (p.was && !p.now ? 1 : 0))),
      criticGain: mean(outcomes.map((o) => o.after - o.before)),
      criticReward: mean(criticRewards),
      critiqueTokens: mean(critiqueTokens),
      transferred,
      refinements: refined.length,
      maskedTasks: [...new Set(refined.map(taskOf))].filter((task) => !kept.get(task)).length,
      generatedTokens: tokensOf(attempts.map((a) => a.episode)) + critiqueTokens.reduce((a, b) => a + b, 0),
    }
    return { samples, metrics }
  })
