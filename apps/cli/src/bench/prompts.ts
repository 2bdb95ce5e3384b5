/**
 * Prompt lengths of the agentic environments at each difficulty level, in bytes (= tokens of the
 * byte-level model, whose context is 1,024): the solver, retry and critic prompts of the
 * warm-start demonstrations (expert episodes, critiques of corrupted attempts, retries under the
 * tips), the prompts a random policy sees over whole episodes (up to the turn cap), expert
 * episode lengths, and the solver prompts with two steps of history instead of one. Prints one
 * JSON object.
 *
 *   bun run bench prompts [--tasks N]
 */
import { EpisodeRecorder, isDrill, Rng, type EnvironmentPackage, type Task } from "@icrl/core"
import { makeHouseholdPackage, makeSearchQaPackage, makeShopPackage } from "@icrl/envs-agentic"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { defaulted, PositiveCount } from "../flags.ts"

const bytes = (text: string): number => Buffer.byteLength(text)

const stats = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return {
    mean: Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)),
    p90: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))] ?? 0,
    max: sorted.at(-1) ?? 0,
  }
}

/** The prompts of random-policy episodes: admissible actions (search queries from the task text), or a malformed one. */
const randomPrompts = <T extends Task>(pkg: EnvironmentPackage<T>, tasks: ReadonlyArray<T>) =>
  Effect.gen(function* () {
    const rng = new Rng(7)
    const out: Array<number> = []
    for (const task of tasks) {
      const env = pkg.make(task)
      const episode = new EpisodeRecorder(task, yield* env.reset({ seed: 0 }))
      while (!episode.done) {
        const prompt = pkg.renderPrompt(episode.context())
        out.push(bytes(prompt))
        const admissible = episode.admissible ?? []
        const words = task.text.split(" ")
        const pick = admissible.length === 0 || rng.chance(0.1) ? "fly" : rng.pick(admissible)
        const action = pick.replace(/<(query|text)>/, () => words.slice(rng.int(words.length), rng.int(words.length) + 3).join(" "))
        const completion = `<action>${action}</action>`
        const parsed = pkg.parseAction(completion)
        episode.record(prompt, completion, parsed, yield* env.step(parsed.action))
      }
    }
    return out
  })

const measure = <T extends Task>(make: (projection: Record<string, unknown>) => EnvironmentPackage<T>, level: string, count: number) =>
  Effect.gen(function* () {
    const options = { difficulty: level }
    const pkg = make({})
    const demos = yield* pkg.warmStart!({ seed: 0, count, options })
    // Copy drills are not prompts the policy sees.
    const of = (role: string) => demos.filter((d) => d.role === role && !isDrill(d))
    const tasks = yield* pkg.tasks("test", { seed: 0, count, options })
    const twoSteps = (yield* make({ history_length: 2 }).warmStart!({ seed: 0, count, options })).filter((d) => d.role === "solver" && !isDrill(d))
    return {
      expertSteps: stats(tasks.map((t) => pkg.expert!(t).length)),
      solverPrompt: stats(of("solver").map((d) => bytes(d.prompt))),
      solverPromptHistory2: stats(twoSteps.map((d) => bytes(d.prompt))),
      retryPrompt: stats(of("refiner").map((d) => bytes(d.prompt))),
      criticPrompt: stats(of("critic").map((d) => bytes(d.prompt))),
      critique: stats(of("critic").map((d) => bytes(d.completion))),
      actionCompletion: stats(of("solver").map((d) => bytes(d.completion))),
      randomPolicyPrompt: stats(yield* randomPrompts(pkg, tasks.slice(0, Math.min(50, count)))),
      demonstrations: { solver: of("solver").length, critic: of("critic").length, refiner: of("refiner").length },
    }
  })

const envs: Record<string, (projection: Record<string, unknown>) => EnvironmentPackage<Task>> = {
  household: (projection) => makeHouseholdPackage({ projection }) as unknown as EnvironmentPackage<Task>,
  shop: (projection) => makeShopPackage({ projection }) as unknown as EnvironmentPackage<Task>,
  searchqa: (projection) => makeSearchQaPackage({ projection }) as unknown as EnvironmentPackage<Task>,
}

/** `bun run bench prompts [--tasks N]`. */
export const command = Command.make(
  "prompts",
  { tasks: defaulted(Flag.Int("tasks").pipe(Flag.withSchema(PositiveCount)), 200, "tasks (and warm-start demonstration tasks) per level") },
  (f) =>
    Effect.gen(function* () {
      const result: Record<string, Record<string, unknown>> = {}
      for (const [name, make] of Object.entries(envs)) {
        const levels: Record<string, unknown> = {}
        for (const level of ["1", "2", "3"]) levels[`level${level}`] = yield* measure(make, level, f.tasks)
        result[name] = levels
      }
      console.log(JSON.stringify({ benchmark: "prompts", unit: "bytes", tasks: f.tasks, ...result }, null, 2))
    }),
).pipe(Command.withDescription("agentic prompt lengths per difficulty level (solver, retry, critic, random policy)"))
