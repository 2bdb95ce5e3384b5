/**
 * Warm-start demonstrations for the three roles, built the same way for every agentic
 * environment: expert steps for the solver, reference critiques of corrupted (and some
 * successful) attempts for the critic, and expert steps under guidance for the refiner.
 */
import { ConfigError, DataError, defaultTemplates, isDrill, mixSeed, Rng, trySync, type Demonstration, type EnvironmentPackage, type EpisodeError, type Task, type TaskOptions, type Trajectory } from "@icrl/core"
import { Effect } from "effect"
import { type Guidance, type ScriptedStep, runScript } from "./episode.ts"

/** What an environment supplies to build its warm-start data. */
export interface WarmStartSource<T extends Task> {
  readonly pkg: EnvironmentPackage<T>
  expertPlan(task: T): ReadonlyArray<ScriptedStep>
  corrupt(task: T, rng: Rng): ReadonlyArray<ScriptedStep>
  critique(task: T, trajectory: Trajectory): string
  /** Fraction of tasks that also get a critic demo on the expert's successful attempt. */
  readonly successCritiqueRate: number
  /**
   * Whether those tasks also get refiner demos: the expert's steps again under the critique of
   * its own success (the critique says it was right; the retry repeats it). Without them the
   * refiner only ever saw critiques of failures and changed correct attempts when told they were
   * correct. Absent: false.
   */
  readonly refineSuccesses?: boolean
  /** Copy drills per task ({@link copyDrills}); absent or 0: none. */
  readonly copyDrillsPerTask?: number
}

/** The stop string every demo completion ends with (core's default stop for all roles). */
export const demoStop = "\n\n"

/**
 * Copy drills over the words of the solver prompts: each prompt is `Copy: ` and 3 to 10 words
 * drawn uniformly from those words (names, numbers, ids and plain words alike), the completion
 * repeats them. A byte-level model trained from scratch on task steps alone never learned to
 * copy a multi-part name from its prompt (searchqa: 0 of 100 held-out searches); after drills
 * over such words it does (see the README's agentic section). Words in random order cannot be
 * predicted from the language, only copied, and natural words repeat letters, so the copy has to
 * match several bytes at a time. Deterministic in `seed`.
 *
 * @example
 * copyDrills([{ role: "solver", prompt: "Task: find Anna Berg", completion: "" }], 1, 0)[0]!.prompt // "Copy: Berg find Task Anna\n" (say)
 */
export const copyDrills = (demos: ReadonlyArray<Demonstration>, count: number, seed: number): Array<Demonstration> => {
  const words = new Set<string>()
  for (const d of demos) {
    if (d.role !== "solver" || isDrill(d)) continue
    for (const raw of d.prompt.split(/\s+/)) {
      const word = raw.replace(/^[("[<]+|[)\]>.,:;?!"]+$/g, "")
      if (word !== "") words.add(word)
    }
  }
  const vocabulary = [...words]
  if (vocabulary.length === 0) return []
  const rng = new Rng(mixSeed(seed, 0xc0b1))
  return Array.from({ length: count }, () => {
    const text = Array.from({ length: rng.range(3, 10) }, () => rng.pick(vocabulary)).join(" ")
    return { role: "solver", prompt: `Copy: ${text}\n`, completion: `${text}${demoStop}`, drill: true }
  })
}

/**
 * Demonstrations for a list of tasks, deterministic in `seed`.
 * Solver: one demo per expert step (prompt = the projection, completion = `<think>..</think><action>..</action>\n\n`).
 * Critic: prompt = the critic template over the attempt text, completion = ` <critique>\n\n`.
 * Refiner: the expert's steps rendered with the corrupted attempt and its critique as guidance
 * (and, with `refineSuccesses`, with the expert's own attempt and its critique).
 * Then the source's copy drills, if any ({@link copyDrills}).
 *
 * @example
 * yield* buildWarmStart(source, tasks, 0) // solver, critic and refiner demonstrations
 */
export const buildWarmStart = <T extends Task>(
  source: WarmStartSource<T>,
  tasks: ReadonlyArray<T>,
  seed: number,
): Effect.Effect<Array<Demonstration>, EpisodeError> =>
  Effect.gen(function* () {
    const { pkg } = source
    const critic = pkg.templates?.critic ?? defaultTemplates.critic
    const demos: Array<Demonstration> = []
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!
      const rng = new Rng(mixSeed(seed, i, 0x77a3))
      const plan = source.expertPlan(task)
      const expert = yield* runScript(pkg, task, plan)
      for (const turn of expert.turns) demos.push({ role: "solver", prompt: turn.prompt, completion: turn.completion })
      const attempt = yield* runScript(pkg, task, source.corrupt(task, rng))
      const attemptText = pkg.renderAttempt(task, attempt)
      const critique = source.critique(task, attempt)
      demos.push({ role: "critic", prompt: critic(task.text, attemptText), completion: ` ${critique}${demoStop}` })
      const refine = function* (guidance: Guidance) {
        const refined = yield* runScript(pkg, task, plan, guidance)
        for (const turn of refined.turns) demos.push({ role: "refiner", prompt: turn.prompt, completion: turn.completion })
      }
      if (rng.chance(source.successCritiqueRate)) {
        const expertText = pkg.renderAttempt(task, expert)
        const praise = source.critique(task, expert)
        demos.push({ role: "critic", prompt: critic(task.text, expertText), completion: ` ${praise}${demoStop}` })
        if (source.refineSuccesses === true) yield* refine({ attempt: expertText, critique: praise })
      }
      if (!attempt.won) yield* refine({ attempt: attemptText, critique })
    }
    const drills = Math.round((source.copyDrillsPerTask ?? 0) * tasks.length)
    return drills > 0 ? [...demos, ...copyDrills(demos, drills, seed)] : demos
  })

/**
 * An agentic package's `warmStart`: the train tasks of the options, then {@link buildWarmStart}
 * over them. Bad options fail with a ConfigError, unreadable data with a DataError; an episode
 * that cannot run is a defect (the package's own scripted episodes).
 *
 * @example
 * warmStart: (options) => warmStartOf(source, householdTasks, options)
 */
export const warmStartOf = <T extends Task>(
  source: WarmStartSource<T>,
  tasksOf: (split: "train", options: TaskOptions) => ReadonlyArray<T>,
  options: TaskOptions,
): Effect.Effect<ReadonlyArray<Demonstration>, ConfigError | DataError> =>
  trySync(() => tasksOf("train", options), [ConfigError, DataError]).pipe(
    Effect.flatMap((tasks) => Effect.orDie(buildWarmStart(source, tasks, options.seed))),
  )
