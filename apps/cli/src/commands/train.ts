import { checkTrainingDefaults, DataError, EnvironmentRegistry, trySync } from "@icrl/core"
import {
  readRunConfig,
  RunDirectoryError,
  runDirectoryPath,
  runFiles,
  runTraining,
  selectBackend,
  type RunEvent,
  type RunSettings,
} from "@icrl/trainer"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { join, resolve } from "node:path"
import { algorithmConfigOf, algorithmFlags, knobLabel } from "../algorithmFlags.ts"
import { checkEnvOptions, envFlag, envOptionFlags, envOptionsOf, loadForFlag } from "../envOptions.ts"
import { Count, defaulted, FlagError, optional, toggle } from "../flags.ts"
import { backendFlag, checkModelFolder, loraConfigOf, loraFlags, modelChoiceFlags, presetOf, threadsFlag } from "../modelFlags.ts"
import { progressPrinter, summaryTable } from "../progress.ts"
import { rolloutFlags, rolloutOptionsOf } from "../rolloutFlags.ts"
import { runFileFlags, runSettingFlags, warmstartSettingFlags, warmstartSettingsOf } from "../runFlags.ts"

/** The flags of `train`. */
export const trainFlags = {
  env: envFlag,
  envOptions: envOptionFlags,
  knobs: algorithmFlags,
  settings: { ...runSettingFlags, ...warmstartSettingFlags },
  files: runFileFlags,
  ...modelChoiceFlags,
  lora: loraFlags,
  merge: toggle("merge", "with --lora-rank: also write the adapters merged into the model as a Hugging Face folder (<out>/hf)"),
  backend: backendFlag,
  threads: threadsFlag,
  out: optional(Flag.String("out"), "run directory (default runs/<env>-<algo>-s<seed>)"),
  allowNonemptyOut: toggle("allow-nonempty-out", "start the run in an --out directory that holds other files"),
  resume: optional(Flag.String("resume"), "continue the run in this directory from its latest checkpoint"),
  init: optional(Flag.String("init"), "start from this checkpoint (and its optimizer's second moments, if saved) instead of the warm start"),
  rollout: rolloutFlags,
  tokenBudget: defaulted(Flag.Int("token-budget").pipe(Flag.withSchema(Count)), 0, "stop RL after this many generated tokens (0: none)"),
  json: toggle("json", "print the final summary as JSON"),
}

/** `bun run train --env NAME ...`: warm start (cached) + ICRL/GRPO + evals + checkpoints. */
export const command = Command.make(
  "train",
  trainFlags,
  (flags) =>
    Effect.gen(function* () {
      const registry = yield* EnvironmentRegistry
      const resume = yield* trySync(() => Option.match(flags.resume, { onNone: () => undefined, onSome: runDirectoryPath }), [RunDirectoryError])
      const saved = resume === undefined ? undefined : yield* trySync(() => readRunConfig(resume), [DataError])
      if (resume !== undefined && saved === undefined) {
        return yield* new RunDirectoryError({ dir: resume, reason: `cannot resume: ${join(resume, runFiles.config)} not found` })
      }
      const env = yield* loadForFlag(saved === undefined ? flags.env : Option.some(saved.env))
      yield* checkTrainingDefaults(env.trainingDefaults)
      // Algorithm knobs: saved run (resume), else the environment's defaults < config file < flags.
      const { config: algorithm } = yield* algorithmConfigOf(flags.knobs, flags.files.config, saved?.algorithm ?? env.trainingDefaults?.knobs)
      const model = Option.getOrUndefined(flags.model)
      const preset = yield* presetOf(flags)
      if (saved === undefined && model !== undefined) {
        if (Option.isSome(flags.init)) return yield* new FlagError({ flag: "init", detail: "give either --init or --model" })
        yield* checkModelFolder("model", model)
      }
      const lora = yield* loraConfigOf(flags.lora, flags.model)
      if (flags.merge && lora === undefined) return yield* new FlagError({ flag: "merge", detail: "needs --lora-rank" })
      const warm = warmstartSettingsOf(
        { steps: flags.settings.warmstartSteps, batch: flags.settings.warmstartBatch, lr: flags.settings.warmstartLr },
        env,
        model !== undefined,
      )
      const settings: RunSettings = saved?.settings ?? {
        env: env.name,
        envOptions: yield* envOptionsOf(flags.envOptions),
        preset,
        ...(model === undefined ? {} : { model: resolve(model) }),
        ...(lora === undefined ? {} : { lora }),
        ...(flags.merge ? { merge: true } : {}),
        evalEvery: flags.settings.evalEvery,
        evalTasks: flags.settings.evalTasks,
        evalSeed: 0,
        passK: flags.settings.passK,
        evalRounds: flags.settings.evalRounds,
        checkpointEvery: flags.settings.checkpointEvery,
        warmstartSteps: warm.steps,
        warmstartBatchSize: warm.batchSize,
        warmstartLr: warm.lr,
        tokenBudget: flags.tokenBudget,
        sampleBatchSize: 64,
      }
      yield* checkEnvOptions(env, settings.envOptions)
      if (algorithm.max_rounds > 1 && algorithm.critic_source === "reference" && env.referenceCritique === undefined) {
        return yield* new FlagError({ flag: knobLabel("critic_source"), detail: `environment ${env.name} has no reference critic (try --critic-source frozen)` })
      }
      const rollout = yield* rolloutOptionsOf(flags.rollout)
      const out = yield* trySync(
        () => runDirectoryPath(resume ?? Option.getOrElse(flags.out, () => join(registry.root, "runs", `${env.name}-${algorithm.algorithm}-s${algorithm.seed}`))),
        [RunDirectoryError],
      )
      const backend = yield* Effect.promise(() => selectBackend(flags.backend, { threads: flags.threads }))
      yield* Console.error(`backend: ${backend.description}`)
      const modelText =
        settings.model === undefined
          ? `preset: ${settings.preset}`
          : `model: ${settings.model}${settings.lora === undefined ? "" : `  LoRA rank ${settings.lora.rank}`}`
      yield* Console.error(`env: ${env.name}  algo: ${algorithm.algorithm}  steps: ${algorithm.total_steps}  ${modelText}  out: ${out}`)
      const printer = progressPrinter(process.stderr)
      const result = yield* runTraining({
        env,
        algorithm,
        settings,
        out,
        resume: resume !== undefined,
        allowOtherFiles: flags.allowNonemptyOut,
        ...Option.match(flags.init, { onNone: () => ({}), onSome: (init) => ({ init }) }),
        cacheDir: Option.getOrElse(flags.files.cacheDir, () => join(registry.root, "runs", ".cache")),
        ...(rollout === undefined ? {} : { rollout }),
        onEvent: (event: RunEvent) => printer(event),
      })
      printer.done()
      yield* Console.log(flags.json ? JSON.stringify(result) : summaryTable(result))
    }),
).pipe(Command.withDescription("Train a policy with an algorithm recipe (ICRL, GRPO, ...) on an environment (warm start + RL, eval, checkpoints)"))
