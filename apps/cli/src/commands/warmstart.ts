import { CheckpointError, checkTrainingDefaults, EnvironmentRegistry, trySync } from "@icrl/core"
import { ByteTokenizer, checkpointEffect, HfTokenizer, initialModel, saveCheckpoint, selectBackend, warmStart, type Tokenizer } from "@icrl/trainer"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { basename, join, resolve } from "node:path"
import { checkEnvOptions, envFlag, envOptionFlags, envOptionsOf, loadForFlag } from "../envOptions.ts"
import { Count, defaulted, optional, PositiveCount, PositiveNumber, toggle } from "../flags.ts"
import { backendFlag, checkModelFolder, loraConfigOf, loraFlags, modelChoiceFlags, presetOf, threadsFlag } from "../modelFlags.ts"
import { runSettings, warmstartSettingsOf } from "../runFlags.ts"

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`

/** `bun run warmstart --env NAME`: supervised warm start of the three roles, checkpoint, held-out accuracy. */
export const command = Command.make(
  "warmstart",
  {
    env: envFlag,
    envOptions: envOptionFlags,
    ...modelChoiceFlags,
    lora: loraFlags,
    steps: optional(Flag.Int("steps").pipe(Flag.withSchema(Count)), `SFT updates (default: the environment's, else ${runSettings.warmstartSteps.fallback})`),
    batchSize: optional(
      Flag.Int("batch-size").pipe(Flag.withSchema(PositiveCount)),
      `demonstrations per update (default: the environment's, else ${runSettings.warmstartBatch.fallback})`,
    ),
    lr: optional(
      Flag.Finite("lr").pipe(Flag.withSchema(PositiveNumber)),
      `peak learning rate, warmup 5%, cosine to 10% (default: the environment's, else ${runSettings.warmstartLr.fallback})`,
    ),
    seed: defaulted(Flag.Int("seed"), 0, "seed for the model, data order and tasks"),
    demos: defaulted(Flag.Int("demos").pipe(Flag.withSchema(PositiveCount)), 2048, "demonstrations asked of the environment"),
    evalTasks: defaulted(Flag.Int("eval-tasks").pipe(Flag.withSchema(Count)), 200, "held-out tasks for the closing evaluation (0: skip)"),
    out: optional(Flag.String("out"), "checkpoint directory (default runs/warmstart-<env>-<preset or model folder>-s<seed>)"),
    backend: backendFlag,
    threads: threadsFlag,
    json: toggle("json", "print the result as JSON"),
  },
  (values) =>
    Effect.gen(function* () {
      const registry = yield* EnvironmentRegistry
      const preset = yield* presetOf(values)
      const folder = Option.getOrUndefined(values.model)
      const lora = yield* loraConfigOf(values.lora, values.model)
      if (folder !== undefined) yield* checkModelFolder("model", folder)
      const env = yield* loadForFlag(values.env)
      yield* checkTrainingDefaults(env.trainingDefaults)
      const { steps, batchSize, lr } = warmstartSettingsOf({ steps: values.steps, batch: values.batchSize, lr: values.lr }, env, false)
      const name = folder === undefined ? preset : basename(resolve(folder))
      const out = resolve(Option.getOrElse(values.out, () => join(registry.root, "runs", `warmstart-${env.name}-${name}-s${values.seed}`)))
      const backend = yield* Effect.promise(() => selectBackend(values.backend, { threads: values.threads }))
      yield* Console.error(`backend: ${backend.description}`)
      const tokenizer: Tokenizer = folder === undefined ? new ByteTokenizer() : yield* trySync(() => HfTokenizer.load(folder), [CheckpointError])
      const settings = { preset, ...(folder === undefined ? {} : { model: folder }), ...(lora === undefined ? {} : { lora }) }
      const model = yield* Effect.acquireRelease(
        trySync(() => initialModel(settings, tokenizer, values.seed), [CheckpointError]),
        (m) => Effect.sync(() => m.dispose()),
      )
      const trainable = model.lora === undefined ? "" : `, ${model.lora.parameterCount().toLocaleString("en-US")} in LoRA adapters of rank ${model.lora.config.rank}`
      yield* Console.error(`model: ${name}, ${model.parameterCount().toLocaleString("en-US")} parameters${trainable}`)
      const envOptions = yield* envOptionsOf(values.envOptions)
      yield* checkEnvOptions(env, envOptions)
      const every = Math.max(1, Math.floor(steps / 20))
      const result = yield* warmStart({
        env,
        model,
        tokenizer,
        steps,
        batchSize,
        lr,
        seed: values.seed,
        demonstrationCount: values.demos,
        evalTasks: values.evalTasks,
        envOptions,
        onProgress: (p) => {
          if (p.step % every !== 0 && p.step !== p.steps) return
          const rate = p.elapsedMs > 0 ? (p.tokens / p.elapsedMs) * 1000 : 0
          const eta = p.step > 0 ? ((p.steps - p.step) * p.elapsedMs) / p.step / 1000 : 0
          console.error(
            `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${Math.round(rate)} tok/s  eta ${eta.toFixed(0)}s`,
          )
        },
      })
      const state = {
        model,
        // RL started with --init from this checkpoint continues these moments.
        optimizer: result.optimizer,
        step: 0,
        config: {
          env: env.name,
          envOptions,
          preset: name,
          seed: values.seed,
          steps,
          batchSize,
          lr,
          ...(lora === undefined ? {} : { lora }),
        },
        extra: {
          warmStart: {
            steps: result.steps,
            drillSteps: result.drillSteps,
            demonstrations: result.demonstrations,
            finalLoss: result.finalLoss,
            ...(result.evaluation === undefined ? {} : { evaluation: result.evaluation }),
          },
        },
      }
      yield* checkpointEffect(out, () => saveCheckpoint(out, state)).pipe(Effect.ensuring(Effect.sync(() => result.optimizer.dispose())))
      const summary = {
        env: env.name,
        preset: name,
        parameters: model.parameterCount(),
        backend: backend.description,
        checkpoint: out,
        steps: result.steps,
        drillSteps: result.drillSteps,
        demonstrations: result.demonstrations,
        finalLoss: result.finalLoss,
        skippedSteps: result.skippedSteps,
        seconds: result.elapsedMs / 1000,
        tokensPerSecond: result.tokensPerSecond,
        ...(result.evaluation === undefined ? {} : { evaluation: result.evaluation }),
      }
      if (values.json) yield* Console.log(JSON.stringify(summary))
      else {
        yield* Console.log(`checkpoint: ${out}`)
        const drills = result.drillSteps > 0 ? `, after ${result.drillSteps} copy-drill steps` : ""
        yield* Console.log(`final loss: ${result.finalLoss.toFixed(4)} nats/token after ${result.steps} steps${drills} (${summary.seconds.toFixed(1)} s)`)
        if (result.evaluation !== undefined) {
          const e = result.evaluation
          yield* Console.log(`held-out solver accuracy: ${percent(e.solverAccuracy)} (${e.tasks} tasks)`)
          yield* Console.log(`critique accuracy: ${percent(e.critiqueAccuracy)}`)
          yield* Console.log(`refined accuracy (after own critique): ${percent(e.refinedAccuracy)}`)
          if (e.expertStepAccuracy !== undefined) {
            const turns = (e.expertStepAccuracyByTurn ?? []).map(([hit, n], t) => `turn ${t + 1}: ${hit}/${n}`).join(", ")
            yield* Console.log(`expert steps matched (greedy, from the expert's states): ${percent(e.expertStepAccuracy)} (${turns})`)
          }
        }
      }
    }).pipe(Effect.scoped),
).pipe(Command.withDescription("Supervised warm start of the three roles from an environment's demonstrations"))
