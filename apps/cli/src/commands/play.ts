/**
 * `play --env NAME --seed S`: act in an environment from the terminal. Each turn prints the
 * exact prompt the model would see, then reads one line from stdin: a plain action, or a
 * completion with `<action>...</action>` (parsed as the model's would be). Works with piped stdin.
 */
import { EpisodeRecorder, splits, type EnvironmentPackage, type EpisodeError, type Task } from "@icrl/core"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { ExitCode } from "../edge.ts"
import { checkEnvOptions, envFlag, envOptionFlags, envOptionsOf, loadForFlag, noEnvOptions } from "../envOptions.ts"
import { Count, defaulted, FlagError } from "../flags.ts"

const help = [
  "Type an action (e.g. `go to fridge 1`, `search[red shoes]`) or a full completion",
  "(`<think>...</think><action>...</action>`). Commands: :help, :expert (show the expert's actions),",
  ":critique (the reference critique of the episode so far), :quit. End of input ends the session.",
].join("\n")

/** What a session did. */
export interface PlaySummary {
  readonly steps: number
  readonly won: boolean
  readonly score: number
  readonly totalReward: number
  readonly ended: boolean
}

/**
 * Plays one episode of `task`, reading actions from `lines` and writing everything to `write`.
 *
 * @example
 * yield* playEpisode(pkg, task, 0, console, (s) => process.stdout.write(s))
 */
export const playEpisode = <T extends Task>(
  pkg: EnvironmentPackage<T>,
  task: T,
  seed: number,
  lines: AsyncIterable<string>,
  write: (text: string) => void,
  interactive = false,
): Effect.Effect<PlaySummary, EpisodeError> =>
  Effect.gen(function* () {
    const env = pkg.make(task)
    const episode = new EpisodeRecorder(task, yield* env.reset({ seed }))
    const input = lines[Symbol.asyncIterator]()
    let ended = false
    write(`${pkg.name} task ${task.id} (${task.split}), step cap ${pkg.maxSteps}. Type :help for commands.\n`)
    const showPrompt = () => {
      const prompt = pkg.renderPrompt(episode.context())
      write(`\n===== what the model sees (step ${episode.turns.length + 1}) =====\n${prompt}${prompt.endsWith("\n") ? "" : "\n"}=====\n`)
      if (interactive) write("action> ")
    }
    showPrompt()
    for (;;) {
      const next = yield* Effect.promise(() => input.next())
      if (next.done === true) break
      const line = next.value.replace(/\r$/, "")
      const command = line.trim()
      if (command === "") continue
      if (command === ":quit" || command === ":q") break
      if (command === ":help") {
        write(`${help}\n`)
        if (interactive) write("action> ")
        continue
      }
      if (command === ":expert") {
        write(pkg.expert === undefined ? "this environment has no expert\n" : `expert: ${pkg.expert(task).join(" | ")}\n`)
        if (interactive) write("action> ")
        continue
      }
      if (command === ":critique") {
        write(pkg.referenceCritique === undefined ? "this environment has no reference critic\n" : `reference critique: ${pkg.referenceCritique(task, episode.trajectory())}\n`)
        if (interactive) write("action> ")
        continue
      }
      const completion = pkg.kind === "single-turn" || line.includes("<action>") ? line : `<action>${line}</action>`
      const parsed = pkg.kind === "single-turn" ? pkg.parseAction(line) : pkg.parseAction(completion)
      const prompt = pkg.renderPrompt(episode.context())
      const result = yield* env.step(parsed.action)
      episode.record(prompt, completion, parsed, result)
      const flags = [result.info.actionValid ? "valid" : "INVALID", result.terminated ? "terminated" : "", result.truncated ? "truncated" : ""]
        .filter((f) => f !== "")
        .join(", ")
      write(`\n> ${parsed.action === "" ? "(no action)" : parsed.action}\n${result.observation}\n[reward ${result.reward}, ${flags}]\n`)
      if (result.terminated || result.truncated) {
        ended = true
        break
      }
      showPrompt()
    }
    const { turns, won, score, totalReward } = episode
    write(`\n===== episode ${ended ? "over" : "stopped"}: ${turns.length} step${turns.length === 1 ? "" : "s"}, won ${won}, score ${score}, total reward ${Math.round(totalReward * 1000) / 1000} =====\n`)
    if (turns.length > 0) {
      const attempt = pkg.renderAttempt(task, episode.trajectory())
      write(`the critic would read:${attempt.startsWith("\n") ? "" : "\n"}${attempt}\n`)
      if (pkg.referenceCritique !== undefined) write(`reference critique: ${pkg.referenceCritique(task, episode.trajectory())}\n`)
    }
    return { steps: turns.length, won, score, totalReward, ended }
  })

/**
 * The `play` command.
 *
 * @example
 * bun run play --env household --seed 3 // reads actions from stdin
 */
export const command = Command.make(
  "play",
  {
    env: envFlag,
    seed: defaulted(Flag.Int("seed"), 0, "task seed"),
    split: defaulted(Flag.Literals("split", splits), "test", "task split"),
    index: defaulted(Flag.Int("index").pipe(Flag.withSchema(Count)), 0, "position of the task in the split"),
    difficulty: envOptionFlags.difficulty,
    options: envOptionFlags.options,
  },
  (values) =>
    Effect.gen(function* () {
      if (Option.isNone(values.env)) return yield* new FlagError({ flag: "env", detail: "is required (see `bun run envs list`)" })
      const options = yield* envOptionsOf({ ...noEnvOptions, difficulty: values.difficulty, options: values.options })
      const pkg = yield* loadForFlag(values.env)
      yield* checkEnvOptions(pkg, options, [values.split])
      const [task] = yield* pkg.tasks(values.split, {
        seed: values.seed,
        count: 1,
        offset: values.index,
        ...(Object.keys(options).length > 0 ? { options } : {}),
      })
      if (task === undefined) {
        yield* Console.error(`error: ${pkg.name} has no task at index ${values.index} of the ${values.split} split`)
        return yield* new ExitCode({ code: 1 })
      }
      yield* playEpisode(pkg, task, values.seed, console, (text) => process.stdout.write(text), process.stdin.isTTY === true)
    }),
).pipe(Command.withDescription(`Act in an environment from the terminal and see what the model sees. ${help}`))
