/**
 * The environment doctor: conformance checks any EnvironmentPackage can be put through
 * (multi-turn or single-turn). It exercises the package only through its contract, so it
 * works for environments it has never seen.
 */
import { Cause, Data, Effect, Exit, Option } from "effect"
import type { Environment, StepResult } from "./Environment.ts"
import { type EnvironmentPackage, isDrill } from "./EnvironmentPackage.ts"
import { mixSeed, Rng } from "./Rng.ts"
import { checkTrainingDefaults } from "./TrainingDefaults.ts"
import type { Split, Task } from "./Task.ts"
import type { Trajectory, Turn } from "./Trajectory.ts"

/** How hard the doctor looks. */
export interface DoctorOptions {
  /** Tasks examined per check (default 20). */
  readonly episodes?: number
  /** Seed of the task lists and of the random and fuzzed actions (default 0). */
  readonly seed?: number
  /** Split the episodes come from (default "test"). */
  readonly split?: Split
  /** Environment-specific task options, passed to `tasks`. */
  readonly taskOptions?: Readonly<Record<string, string>>
}

/** The verdict of one check. */
export interface DoctorCheck {
  readonly name: string
  readonly ok: boolean
  /** True when the package does not provide what the check needs (an optional method). */
  readonly skipped: boolean
  readonly detail: string
}

/** Everything the doctor found. */
export interface DoctorReport {
  readonly env: string
  readonly kind: "single-turn" | "multi-turn"
  readonly episodes: number
  /** Fraction of expert episodes that won; null without an expert. */
  readonly expertSuccessRate: number | null
  /** Fraction of attempts for which the reference critic gave a usable critique; null without one. */
  readonly criticCoverage: number | null
  /** Mean and largest prompt length at the first turn, in characters. */
  readonly promptChars: { readonly mean: number; readonly max: number }
  readonly checks: ReadonlyArray<DoctorCheck>
  /** One line per failed check: "name: detail". */
  readonly failures: ReadonlyArray<string>
  readonly ok: boolean
}


const fuzzPieces = [
  "", " ", "\n", "\t", "\u0000", "\u{1F600}", "é", "<action>", "</action>", "<think>", "</think>", "[", "]",
  "search[", "click[", "go to", "take", "from", "1", "-1", "99999999999999999999", "NaN", "null", "undefined",
  "\\", '"', "'", "{}", "__proto__", "constructor", "\u202e", "%s", "${x}",
]

/** A random malformed or odd action string. */
const fuzzString = (gen: Rng, admissible: ReadonlyArray<string>): string => {
  const mode = gen.int(6)
  if (mode === 0 && admissible.length > 0) {
    // Mutate an admissible action: drop, duplicate or swap a character.
    const base = gen.pick(admissible)
    const i = gen.int(base.length + 1)
    const op = gen.int(3)
    return op === 0 ? base.slice(0, i) + base.slice(i + 1) : op === 1 ? base.slice(0, i) + base.slice(i) + base.slice(i) : base.toUpperCase() + " x"
  }
  if (mode === 1) return "x".repeat(1 + gen.int(20000))
  if (mode === 2) {
    let s = ""
    const n = gen.int(40)
    for (let i = 0; i < n; i++) s += String.fromCodePoint(gen.int(0x3000))
    return s
  }
  if (mode === 3 && admissible.length > 0) return `<action>${gen.pick(admissible)}</action>`
  let s = ""
  const n = 1 + gen.int(6)
  for (let i = 0; i < n; i++) s += gen.pick(fuzzPieces)
  return s
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${"_tag" in error ? String(error._tag) : error.name}: ${error.message}` : String(error)

/** A problem with one step result's shape, or undefined when it is well formed. */
const malformedStep = (result: StepResult): string | undefined => {
  if (result === null || typeof result !== "object") return "step returned a non-object"
  if (typeof result.observation !== "string") return "observation is not a string"
  if (typeof result.reward !== "number" || !Number.isFinite(result.reward)) return `reward ${String(result.reward)} is not finite`
  if (typeof result.terminated !== "boolean" || typeof result.truncated !== "boolean") return "terminated/truncated are not booleans"
  const info = result.info
  if (info === null || typeof info !== "object") return "info is missing"
  if (typeof info.won !== "boolean" || typeof info.actionValid !== "boolean") return "info.won/actionValid are not booleans"
  if (info.admissibleActions !== undefined && (!Array.isArray(info.admissibleActions) || info.admissibleActions.some((a) => typeof a !== "string"))) {
    return "info.admissibleActions is not a string array"
  }
  if (info.score !== undefined && (typeof info.score !== "number" || !Number.isFinite(info.score))) return "info.score is not finite"
  return undefined
}

/** The trajectory of played turns, ended (or not) by the last step's result. */
const trajectoryOf = (task: Task, turns: ReadonlyArray<Turn>, last: StepResult | undefined): Trajectory => {
  const won = last?.info.won ?? false
  return {
    taskId: task.id,
    turns,
    totalReward: turns.reduce((sum, t) => sum + t.reward, 0),
    won,
    score: last?.info.score ?? (won ? 1 : 0),
    terminated: last?.terminated ?? false,
    truncated: last?.truncated ?? false,
  }
}

const stableJson = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v))

/** A check that found a problem: `detail` says which. */
class CheckFailure extends Data.TaggedError("CheckFailure")<{ readonly detail: string }> {}

const fail = (detail: string): Effect.Effect<never, CheckFailure> => Effect.fail(new CheckFailure({ detail }))

/** The detail of a failed check: its own finding, an error the package returned, or what it threw. */
const failureDetail = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) {
    return error.value instanceof CheckFailure ? error.value.detail : `failed: ${describeError(error.value)}`
  }
  return `threw ${describeError(Cause.squash(cause))}`
}

/** Runs a check's body; a failure or a defect becomes a failed check that says what happened. */
const runCheck = <E>(name: string, body: Effect.Effect<{ readonly detail: string; readonly skipped?: boolean | undefined }, E>): Effect.Effect<DoctorCheck> =>
  Effect.map(Effect.exit(body), (exit) =>
    Exit.isSuccess(exit)
      ? { name, ok: true, skipped: exit.value.skipped === true, detail: exit.value.detail }
      : { name, ok: false, skipped: false, detail: failureDetail(exit.cause) },
  )

/**
 * Puts an environment package through the conformance checks: task lists (deterministic,
 * unique ids, disjoint splits), reset and determinism (same seed, same episode), fuzzed and
 * random actions (never fail, well-formed results, admissible actions accepted), reward bounds,
 * the package's Reward agreeing with the step rewards,
 * the step cap, prompts and action parsing, the expert's success rate, the reference critic's
 * coverage, the training defaults and the warm-start data.
 *
 * @example
 * const report = yield* checkEnvironment(env, { episodes: 20 })
 * report.ok // true when every check passed
 */
export const checkEnvironment = <T extends Task>(pkg: EnvironmentPackage<T>, options: DoctorOptions = {}): Effect.Effect<DoctorReport> =>
  Effect.gen(function* () {
    const episodes = Math.max(1, Math.floor(options.episodes ?? 20))
    const seed = options.seed ?? 0
    const split = options.split ?? "test"
    const taskOptions = { seed, count: episodes, ...(options.taskOptions === undefined ? {} : { options: options.taskOptions }) }
    const multi = pkg.kind === "multi-turn"
    const [lo, hi] = pkg.rewardRange
    const checks: Array<DoctorCheck> = []
    let tasks: ReadonlyArray<T> = []
    let expertSuccessRate: number | null = null
    let criticCoverage: number | null = null
    const promptLengths: Array<number> = []

    const fresh = (task: T) =>
      Effect.gen(function* () {
        const env: Environment = pkg.make(task)
        const start = yield* env.reset({ seed })
        return { env, observation: start.observation, admissible: start.info.admissibleActions ?? [] }
      })
    const checkReward = (result: StepResult, where: string): Effect.Effect<void, CheckFailure> =>
      result.reward < lo - 1e-9 || result.reward > hi + 1e-9 ? fail(`${where}: reward ${result.reward} outside [${lo}, ${hi}]`) : Effect.void
    // A random action: admissible most of the time, fuzzed otherwise.
    const randomAction = (gen: Rng, admissible: ReadonlyArray<string>): string =>
      admissible.length > 0 && gen.next() < 0.75 ? gen.pick(admissible) : fuzzString(gen, admissible)
    // A strict prefix of the expert's actions (empty without an expert), to reach deeper states.
    const expertPrefix = (task: T, gen: Rng): ReadonlyArray<string> => {
      if (!multi || pkg.expert === undefined || gen.next() < 0.5) return []
      const actions = pkg.expert(task)
      return actions.slice(0, gen.int(actions.length))
    }
    const randomEpisode = (task: T, gen: Rng) =>
      Effect.gen(function* () {
        const { env, observation: first, admissible: firstAdmissible } = yield* fresh(task)
        let observation = first
        let admissible = firstAdmissible
        const turns: Array<Turn> = []
        let result: StepResult | undefined
        const prefix = expertPrefix(task, gen)
        for (let t = 0; t < pkg.maxSteps + 1; t++) {
          const action = t < prefix.length ? prefix[t]! : randomAction(gen, admissible)
          const prompt = pkg.renderPrompt({ task, observation, history: turns.slice(), admissibleActions: admissible })
          result = yield* env.step(action)
          turns.push({ prompt, completion: action, action, actionValid: result.info.actionValid, observation: result.observation, reward: result.reward })
          observation = result.observation
          admissible = result.info.admissibleActions ?? []
          if (result.terminated || result.truncated) break
        }
        return trajectoryOf(task, turns, result)
    })
    // An episode of the given actions (stopping where the episode ends).
    const scriptedEpisode = (task: T, actions: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const { env } = yield* fresh(task)
        const turns: Array<Turn> = []
        let result: StepResult | undefined
        for (const action of actions) {
          result = yield* env.step(action)
          turns.push({ prompt: "", completion: action, action, actionValid: result.info.actionValid, observation: result.observation, reward: result.reward })
          if (result.terminated || result.truncated) break
        }
        return trajectoryOf(task, turns, result)
      })

    checks.push(
      yield* runCheck("tasks", Effect.gen(function* () {
        const train = yield* pkg.tasks("train", taskOptions)
        const test = yield* pkg.tasks("test", taskOptions)
        tasks = split === "train" ? train : test
        if (train.length !== episodes || test.length !== episodes) return yield* fail(`asked for ${episodes} tasks, got ${train.length} train and ${test.length} test`)
        if (stableJson(yield* pkg.tasks("train", taskOptions)) !== stableJson(train)) return yield* fail("the train tasks differ between two calls with the same seed")
        if (stableJson(yield* pkg.tasks("test", taskOptions)) !== stableJson(test)) return yield* fail("the test tasks differ between two calls with the same seed")
        for (const [name, list] of [["train", train], ["test", test]] as const) {
          const ids = new Set(list.map((t) => t.id))
          if (ids.size !== list.length) return yield* fail(`${name} task ids are not unique`)
          const bad = list.find((t) => t.split !== name || typeof t.text !== "string" || t.text.length === 0)
          if (bad !== undefined) return yield* fail(`${name} task ${bad.id} has split "${bad.split}" or an empty text`)
        }
        const trainIds = new Set(train.map((t) => t.id))
        const shared = test.find((t) => trainIds.has(t.id))
        if (shared !== undefined) return yield* fail(`task ${shared.id} is in both splits`)
        // The same text may name different tasks (a goal sentence in two different worlds): reported, not failed.
        const trainTexts = new Set(train.map((t) => t.text))
        const sameText = test.filter((t) => trainTexts.has(t.text)).length
        const offsetTask = (yield* pkg.tasks(split, { ...taskOptions, count: 1, offset: episodes - 1 }))[0]
        if (episodes > 1 && offsetTask !== undefined && stableJson(offsetTask) !== stableJson(tasks[episodes - 1])) {
          return yield* fail("tasks(offset: n - 1, count: 1) differs from the n-th task of the full list")
        }
        const note = sameText > 0 ? `; ${sameText} test texts also occur in train` : ""
        return { detail: `${train.length} train and ${test.length} test tasks, deterministic, ids unique, splits disjoint${note}` }
      })),
    )
    if (tasks.length === 0) {
      const failures = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
      return { env: pkg.name, kind: pkg.kind, episodes, expertSuccessRate, criticCoverage, promptChars: { mean: 0, max: 0 }, checks, failures, ok: false }
    }

    checks.push(
      yield* runCheck("reset", Effect.gen(function* () {
        for (const task of tasks) {
          const a = yield* pkg.make(task).reset({ seed })
          const env = pkg.make(task)
          const b = yield* env.reset({ seed })
          const c = yield* env.reset({ seed })
          if (typeof a.observation !== "string" || a.observation.length === 0) return yield* fail(`task ${task.id}: empty first observation`)
          if (typeof a.info?.won !== "boolean" || typeof a.info.actionValid !== "boolean") return yield* fail(`task ${task.id}: reset info lacks won/actionValid`)
          if (stableJson(a) !== stableJson(b) || stableJson(b) !== stableJson(c)) return yield* fail(`task ${task.id}: reset with the same seed gives different results`)
        }
        return { detail: "reset gives the same observation and info for the same seed, on fresh and reused environments" }
      })),
    )

    checks.push(
      yield* runCheck("determinism", Effect.gen(function* () {
        for (let i = 0; i < tasks.length; i++) {
          const task = tasks[i]!
          const a = yield* randomEpisode(task, new Rng(mixSeed(seed, 7919, i)))
          const b = yield* randomEpisode(task, new Rng(mixSeed(seed, 7919, i)))
          if (stableJson(a) !== stableJson(b)) return yield* fail(`task ${task.id}: the same actions gave different episodes`)
        }
        return { detail: `${tasks.length} random episodes replayed identically` }
      })),
    )

    let steps = 0
    checks.push(
      yield* runCheck("fuzz", Effect.gen(function* () {
        // Single-turn episodes are one step long: fuzz several fresh episodes per task.
        const rounds = multi ? 1 : 10
        for (let i = 0; i < tasks.length * rounds; i++) {
          const task = tasks[i % tasks.length]!
          const gen = new Rng(mixSeed(seed, 104729, i))
          const { env, admissible: first } = yield* fresh(task)
          let admissible = first
          let ended = false
          for (const action of expertPrefix(task, gen)) {
            const result = yield* env.step(action)
            admissible = result.info.admissibleActions ?? []
            ended = result.terminated || result.truncated
            if (ended) break
          }
          for (let t = 0; t < pkg.maxSteps + 2 && !ended; t++) {
            const action = fuzzString(gen, admissible)
            const exit = yield* Effect.exit(env.step(action))
            if (Exit.isFailure(exit)) return yield* fail(`task ${task.id}: step(${JSON.stringify(action.slice(0, 60))}) ${failureDetail(exit.cause)}`)
            const result = exit.value
            steps++
            const problem = malformedStep(result)
            if (problem !== undefined) return yield* fail(`task ${task.id}: step(${JSON.stringify(action.slice(0, 60))}): ${problem}`)
            yield* checkReward(result, `task ${task.id}`)
            if (result.terminated || result.truncated) break
            admissible = result.info.admissibleActions ?? admissible
            // The state must still be usable: a listed action is accepted after any fuzzed one.
            if (admissible.length > 0 && gen.next() < 0.3) {
              const pick = gen.pick(admissible)
              const next = yield* env.step(pick)
              steps++
              if (!next.info.actionValid) return yield* fail(`task ${task.id}: admissible action ${JSON.stringify(pick)} rejected after fuzzed actions`)
              yield* checkReward(next, `task ${task.id}`)
              if (next.terminated || next.truncated) break
              admissible = next.info.admissibleActions ?? []
            }
          }
          for (const odd of ["", " ", "\u0000", "x".repeat(100000)]) pkg.parseAction(odd)
          pkg.parseAction(fuzzString(gen, []))
        }
        return { detail: `${steps} fuzzed steps: none failed or threw, all results well formed` }
      })),
    )

    checks.push(
      yield* runCheck("admissible", Effect.gen(function* () {
        let checked = 0
        for (let i = 0; i < tasks.length; i++) {
          const task = tasks[i]!
          const gen = new Rng(mixSeed(seed, 31, i))
          // States: the first one, one reached by a part of the expert's actions, then a few random admissible steps.
          const prefix: Array<string> = []
          const { env: walker, admissible: startActions } = yield* fresh(task)
          let admissible = startActions
          let ended = false
          for (const action of expertPrefix(task, gen)) {
            const result = yield* walker.step(action)
            ended = result.terminated || result.truncated
            if (ended) break
            prefix.push(action)
            admissible = result.info.admissibleActions ?? []
          }
          const depth = gen.int(Math.min(6, pkg.maxSteps))
          for (let t = 0; t < depth && admissible.length > 0 && !ended; t++) {
            const action = gen.pick(admissible)
            const result = yield* walker.step(action)
            if (result.terminated || result.truncated) break
            prefix.push(action)
            admissible = result.info.admissibleActions ?? []
          }
          const states: Array<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [[[], startActions]]
          if (prefix.length > 0 && prefix.length < pkg.maxSteps - 1) states.push([prefix, admissible])
          for (const [state, listed] of states) {
            for (const action of listed) {
              const { env } = yield* fresh(task)
              for (const p of state) yield* env.step(p)
              const result = yield* env.step(action)
              checked++
              if (!result.info.actionValid) return yield* fail(`task ${task.id}: admissible action ${JSON.stringify(action)} was rejected`)
            }
          }
        }
        return { detail: checked === 0 ? "the environment lists no admissible actions" : `${checked} listed actions accepted`, skipped: checked === 0 }
      })),
    )

    checks.push(
      yield* runCheck("rewardRange", Effect.gen(function* () {
        if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) return yield* fail(`rewardRange [${lo}, ${hi}] is not a finite interval`)
        let n = 0
        let min = Number.POSITIVE_INFINITY
        let max = Number.NEGATIVE_INFINITY
        for (let i = 0; i < tasks.length; i++) {
          const trajectory = yield* randomEpisode(tasks[i]!, new Rng(mixSeed(seed, 15485863, i)))
          for (const turn of trajectory.turns) {
            n++
            min = Math.min(min, turn.reward)
            max = Math.max(max, turn.reward)
            if (turn.reward < lo - 1e-9 || turn.reward > hi + 1e-9) return yield* fail(`task ${tasks[i]!.id}: reward ${turn.reward} outside [${lo}, ${hi}]`)
          }
        }
        return { detail: `${n} random-play rewards within [${lo}, ${hi}] (seen ${min} .. ${max})` }
      })),
    )

    checks.push(
      yield* runCheck("reward", Effect.gen(function* () {
        let judged = 0
        for (let i = 0; i < tasks.length; i++) {
          const task = tasks[i]!
          const played = [yield* randomEpisode(task, new Rng(mixSeed(seed, 2671, i)))]
          if (pkg.expert !== undefined) {
            const actions = pkg.expert(task)
            played.push(yield* scriptedEpisode(task, multi ? actions : [pkg.parseAction(actions[0] ?? "").action]))
          }
          for (const trajectory of played) {
            const verdict = yield* pkg.reward.verify(task, trajectory)
            judged++
            const agrees =
              Math.abs(verdict.reward - trajectory.totalReward) < 1e-9 && verdict.won === trajectory.won && Math.abs(verdict.score - trajectory.score) < 1e-9
            if (!agrees) {
              return yield* fail(
                `task ${task.id}: reward "${pkg.reward.name}" judged (reward ${verdict.reward}, won ${verdict.won}, score ${verdict.score}) ` +
                  `an episode whose steps reported (reward ${trajectory.totalReward}, won ${trajectory.won}, score ${trajectory.score})`,
              )
            }
          }
        }
        return { detail: `reward "${pkg.reward.name}" agrees with the step rewards on ${judged} random and expert episodes` }
      })),
    )

    checks.push(
      yield* runCheck("stepCap", Effect.gen(function* () {
        if (!Number.isInteger(pkg.maxSteps) || pkg.maxSteps < 1) return yield* fail(`maxSteps ${pkg.maxSteps} is not a positive integer`)
        let capped = 0
        // Two invalid actions in turn: environments may also end an episode after the same action repeated.
        const invalid = ["\u0000 not an action \u0000", "\u0000 not an action either \u0000"]
        for (const task of tasks) {
          const { env } = yield* fresh(task)
          for (let t = 1; t <= pkg.maxSteps + 1; t++) {
            const result = yield* env.step(invalid[t % 2]!)
            if (result.terminated) break
            if (result.truncated && t < pkg.maxSteps) return yield* fail(`task ${task.id}: truncated at step ${t}, before the cap ${pkg.maxSteps}`)
            if (t === pkg.maxSteps && !result.truncated) return yield* fail(`task ${task.id}: not truncated at the cap (${pkg.maxSteps} steps)`)
            if (result.truncated) {
              capped++
              const after = yield* env.step("\u0000 not an action \u0000")
              if (!(after.terminated || after.truncated)) return yield* fail(`task ${task.id}: a step after truncation reopened the episode`)
              break
            }
          }
        }
        return { detail: multi ? `${capped} of ${tasks.length} episodes truncated exactly at ${pkg.maxSteps} steps` : "single-step episodes end at step 1" }
      })),
    )

    checks.push(
      yield* runCheck("prompts", Effect.gen(function* () {
        for (const task of tasks) {
          const { observation, admissible } = yield* fresh(task)
          const prompt = pkg.renderPrompt({ task, observation, history: [], admissibleActions: admissible })
          if (typeof prompt !== "string" || prompt.length === 0) return yield* fail(`task ${task.id}: empty solver prompt`)
          promptLengths.push(prompt.length)
          const critique = "The critique text 7f3a."
          const refine = pkg.renderPrompt({ task, observation, history: [], admissibleActions: admissible, guidance: { attempt: "an attempt", critique } })
          if (!refine.includes(critique)) return yield* fail(`task ${task.id}: the refinement prompt does not show the critique`)
          if (refine === prompt) return yield* fail(`task ${task.id}: the refinement prompt equals the solver prompt`)
        }
        return { detail: `solver and refinement prompts rendered; refinement prompts show the critique` }
      })),
    )

    const expert = pkg.expert
    checks.push(
      yield* runCheck("expert", Effect.gen(function* () {
        if (expert === undefined) return { detail: "no expert", skipped: true }
        let wins = 0
        const lost: Array<string> = []
        for (const task of tasks) {
          const actions = expert.call(pkg, task)
          const { env } = yield* fresh(task)
          let won = false
          let problem: string | undefined
          const inRange = (result: StepResult) => result.reward >= lo - 1e-9 && result.reward <= hi + 1e-9
          if (!multi) {
            const result = yield* env.step(pkg.parseAction(actions[0] ?? "").action)
            if (!inRange(result)) problem = `reward ${result.reward} outside [${lo}, ${hi}]`
            won = result.info.won
          } else if (actions.length > pkg.maxSteps) {
            problem = `needs ${actions.length} steps, over the cap ${pkg.maxSteps}`
          } else {
            for (const action of actions) {
              const result = yield* env.step(action)
              if (!result.info.actionValid) problem ??= `action ${JSON.stringify(action)} was rejected`
              if (!inRange(result)) problem ??= `reward ${result.reward} outside [${lo}, ${hi}]`
              won = result.info.won
              if (result.terminated || result.truncated) break
            }
          }
          if (won && problem === undefined) wins++
          else lost.push(`${task.id}${problem === undefined ? " (not won)" : ` (${problem})`}`)
        }
        expertSuccessRate = wins / tasks.length
        if (wins < tasks.length) return yield* fail(`expert success rate ${expertSuccessRate} < 1; lost ${lost.slice(0, 3).join(", ")}`)
        return { detail: `expert won ${wins}/${tasks.length} episodes` }
      })),
    )

    const critic = pkg.referenceCritique
    checks.push(
      yield* runCheck("critic", Effect.gen(function* () {
        if (critic === undefined) return { detail: "no reference critic", skipped: true }
        let usable = 0
        let total = 0
        // Byte-level models spend one token per byte: a critique must fit the critic budget in bytes.
        const budget = pkg.maxTokens.critic
        const encoder = new TextEncoder()
        const bad: Array<string> = []
        for (let i = 0; i < tasks.length; i++) {
          const task = tasks[i]!
          const attempts = [yield* randomEpisode(task, new Rng(mixSeed(seed, 613, i))), yield* randomEpisode(task, new Rng(mixSeed(seed, 613, i, 1)))]
          for (const attempt of attempts) {
            total++
            const critique = critic.call(pkg, task, attempt)
            if (typeof critique === "string" && critique.trim().length > 0 && encoder.encode(critique).length <= budget) usable++
            else bad.push(task.id)
          }
          pkg.renderAttempt(task, attempts[0]!)
        }
        criticCoverage = total === 0 ? 0 : usable / total
        if (usable < total) return yield* fail(`reference critic coverage ${criticCoverage}: empty or over-long critiques for ${bad.slice(0, 3).join(", ")}`)
        return { detail: `non-empty critiques within ${budget} bytes for ${usable}/${total} random attempts` }
      })),
    )

    checks.push(
      yield* runCheck("trainingDefaults", Effect.gen(function* () {
        const defaults = pkg.trainingDefaults
        if (defaults === undefined) return { detail: "none: the global defaults apply" }
        yield* checkTrainingDefaults(defaults)
        const warm = defaults.warmstart ?? {}
        const parts = [
          ...(["steps", "batchSize", "lr"] as const).flatMap((k) => (warm[k] === undefined ? [] : [`warm-start ${k} ${warm[k]}`])),
          ...Object.entries(defaults.knobs ?? {}).map(([k, v]) => `${k} ${String(v)}`),
        ]
        return { detail: parts.length === 0 ? "empty" : parts.join(", ") }
      })),
    )

    const warmStart = pkg.warmStart
    checks.push(
      yield* runCheck("warmStart", Effect.gen(function* () {
        if (warmStart === undefined) return { detail: "no warm-start data", skipped: true }
        const wsOptions = { ...taskOptions, count: Math.min(episodes, 6) }
        const demos = yield* warmStart.call(pkg, wsOptions)
        if (stableJson(demos) !== stableJson(yield* warmStart.call(pkg, wsOptions))) return yield* fail("warm-start data differs between two calls with the same seed")
        const roles = new Set(demos.map((d) => d.role))
        for (const role of ["solver", "critic"] as const) if (!roles.has(role)) return yield* fail(`no ${role} demonstrations`)
        const empty = demos.find((d) => d.prompt.length === 0 || d.completion.length === 0)
        if (empty !== undefined) return yield* fail(`an empty ${empty.role} demonstration`)
        const drills = demos.filter(isDrill).length
        const counts = ["solver", "critic", "refiner"].map((r) => `${demos.filter((d) => d.role === r && !isDrill(d)).length} ${r}`).join(", ")
          + (drills > 0 ? `, ${drills} copy drills` : "")
        return { detail: `${demos.length} demonstrations (${counts}), deterministic` }
      })),
    )

    const failures = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
    const mean = promptLengths.length === 0 ? 0 : Math.round(promptLengths.reduce((s, n) => s + n, 0) / promptLengths.length)
    return {
      env: pkg.name,
      kind: pkg.kind,
      episodes,
      expertSuccessRate,
      criticCoverage,
      promptChars: { mean, max: promptLengths.length === 0 ? 0 : Math.max(...promptLengths) },
      checks,
      failures,
      ok: failures.length === 0,
    }
})

/**
 * The doctor's report as text: one verdict line per check, then the overall verdict and a JSON
 * summary line with `env`, `episodes`, `expertSuccessRate`, `criticCoverage` and `failures`.
 *
 * @example
 * console.log(formatDoctorReport(checkEnvironment(env)))
 */
export const formatDoctorReport = (report: DoctorReport): string => {
  const width = Math.max(...report.checks.map((c) => c.name.length))
  const lines = [`envs check ${report.env} (${report.kind}, ${report.episodes} episodes)`]
  for (const c of report.checks) lines.push(`  ${c.ok ? (c.skipped ? "SKIP" : "PASS") : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}`)
  lines.push(`verdict: ${report.ok ? "PASS" : `FAIL (${report.failures.length} failed)`}`)
  lines.push(
    JSON.stringify({
      env: report.env,
      episodes: report.episodes,
      expertSuccessRate: report.expertSuccessRate,
      criticCoverage: report.criticCoverage,
      failures: report.failures,
    }),
  )
  return lines.join("\n")
}
