import * as tf from "@tensorflow/tfjs-core"
import {
  appendLines,
  collectTrainingBatch,
  ConfigError,
  DataError,
  evaluate,
  flatEvalMetrics,
  trySync,
  writeFileAtomic,
  WriteError,
  type AlgorithmConfig,
  CheckpointError,
  type EnvironmentPackage,
  type EpisodeError,
  type EvalMetrics,
  type Policy,
  type PolicyError,
  type RolloutMetrics,
  type Task,
  type UpdateStats,
} from "@icrl/core"
import { Effect, Schema, type Scope } from "effect"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { backendNumerics, type BackendNumerics } from "./backend.ts"
import { checkpointEffect, checkpointExists, loadCheckpoint, loadModel, saveCheckpoint } from "./checkpoint.ts"
import { loadHfModel, saveHfModel } from "./hfModel.ts"
import { HfTokenizer } from "./hfTokenizer.ts"
import { LoraAdapters, mergeLora } from "./lora.ts"
import { modelConfig, TransformerModel } from "./model.ts"
import { rlOptimizer, type AdamW, type AdamWState } from "./optimizer.ts"
import { saveLoraAdapter } from "./peft.ts"
import { LocalPolicy, LocalTrainablePolicy } from "./policy.ts"
import { RemoteRollouts, type RemoteRolloutOptions } from "./remoteRollouts.ts"
import { checkFreshRunDirectory, lockRunDirectory, runDirectoryPath } from "./runDirectory.ts"
import { readMetrics, RunDirectoryError, runFiles, RunSettings, writeRunConfig, type EvalRecord, type MetricsLine, type TrainLine } from "./runFiles.ts"
import { ByteTokenizer, type Tokenizer } from "./tokenizer.ts"
import { demonstrationsDigest, warmStart, warmStartDemonstrations } from "./warmstart.ts"

/** What the loop reports as it goes. */
export type RunEvent =
  | { readonly kind: "status"; readonly message: string }
  | { readonly kind: "warmstart"; readonly step: number; readonly steps: number; readonly loss: number }
  | { readonly kind: "train"; readonly record: TrainRecord; readonly totalSteps: number; readonly etaSec: number }
  | { readonly kind: "eval"; readonly record: EvalRecord }

/** A `metrics.jsonl` train line: the rollout metrics, the update statistics and the step totals. */
export interface TrainRecord extends TrainLine, RolloutMetrics, Omit<UpdateStats, "tokens"> {
  readonly samples: number
  readonly trainedTokens: number
  readonly skippedUpdates: number
  readonly tokensPerSecond: number
  readonly elapsedSec: number
  /** Seconds collecting the step's rollouts (in-process, or on the engines). */
  readonly samplingSec: number
  /** Seconds of the update. */
  readonly updateSec: number
  /** Seconds making the engines sample from the updated weights (0 in-process). */
  readonly syncSec: number
  /** With remote rollouts: requests answered, attempts retried, and completions dropped because their tokens did not round-trip, in this step. */
  readonly rolloutRequests?: number
  readonly rolloutRetries?: number
  readonly rolloutMismatches?: number
}

export interface RunResult {
  readonly out: string
  readonly steps: number
  readonly first?: EvalRecord
  readonly last?: EvalRecord
  readonly elapsedSec: number
}

export interface RunOptions {
  readonly env: EnvironmentPackage<Task>
  readonly algorithm: AlgorithmConfig
  readonly settings: RunSettings
  readonly out: string
  /**
   * Continue the run in `out` from its latest checkpoint. The caller passes the run's saved
   * algorithm config (it may raise `total_steps`); other changes break exact continuation.
   */
  readonly resume?: boolean
  /** Start from this checkpoint instead of the (cached) warm start. */
  readonly init?: string
  /**
   * Let a fresh run start in a directory that holds other files (never over files it would
   * overwrite); by default such a directory is refused.
   */
  readonly allowOtherFiles?: boolean
  /** Where warm-start checkpoints are cached (keyed by env, options, preset, seed and settings). */
  readonly cacheDir: string
  /**
   * Sample every rollout on these OpenAI-compatible engines instead of in-process, syncing the
   * weights to them before the first step and after every update (see {@link RemoteRollouts}).
   */
  readonly rollout?: RemoteRolloutOptions
  readonly onEvent?: (event: RunEvent) => void
}

const evalRecord = (step: number, m: EvalMetrics): EvalRecord => ({ step, kind: "eval", ...flatEvalMetrics(m) })

/**
 * The cache key of a warm start: everything that changes its result, the numerics of the
 * backend it ran on included (the same settings on another backend or BLAS thread count give
 * other weights), and the digest of the demonstrations it trains on (so an edited environment
 * does not reuse a warm start of its earlier code).
 *
 * @example
 * warmStartKey("math", settings, 0, await backendNumerics(), demonstrationsDigest(demos)) // "3f2a..." (16 hex digits)
 */
export const warmStartKey = (envName: string, settings: RunSettings, seed: number, numerics: BackendNumerics, demonstrations: string): string =>
  createHash("sha256")
    .update(
      // "v3" names the warm start's format, so caches made by older code are not reused: it holds
      // optimizer moments and was trained on refine prompts that end with the solver prompt. A
      // Hugging Face base model and LoRA settings are appended when given.
      JSON.stringify([
        envName, settings.envOptions, settings.preset, seed, settings.warmstartSteps, settings.warmstartBatchSize, settings.warmstartLr, numerics, demonstrations, "v3",
        ...(settings.model === undefined ? [] : [resolve(settings.model), settings.lora ?? null]),
      ]),
    )
    .digest("hex")
    .slice(0, 16)

/** Where a run starts: the model, the RL optimizer, the last step done and the metrics so far. */
interface StartingPoint {
  readonly model: TransformerModel
  readonly optimizer: AdamW
  readonly startStep: number
  readonly records: Array<MetricsLine>
}

/** What a run can fail with. */
export type RunError = RunDirectoryError | CheckpointError | ConfigError | DataError | EpisodeError | PolicyError | WriteError

/** The options of a run whose directory is resolved and locked and whose settings are validated. */
type CheckedOptions = RunOptions & { readonly emit: (event: RunEvent) => void }

/** A warning as a status line. */
const warning = (message: string): RunEvent => ({ kind: "status", message: `warning: ${message}` })

/**
 * The latest checkpoint and metrics of a run to resume; the saved algorithm config is the
 * caller's. Everything is read and validated before a file is changed: the checkpoint (its
 * manifest by Schema), its step against the run's steps and metrics, and every metrics line (a
 * torn last line is dropped with a warning). Then the metrics past the checkpoint are dropped,
 * by an atomic rewrite.
 */
const resumePoint = (options: CheckedOptions): Effect.Effect<StartingPoint, RunError> =>
  Effect.gen(function* () {
    const { out, algorithm, settings, env, emit } = options
    const latestDir = join(out, runFiles.checkpoints, runFiles.latest)
    const metricsPath = join(out, runFiles.metrics)
    if (!checkpointExists(latestDir)) return yield* new RunDirectoryError({ dir: out, reason: `cannot resume: no checkpoint in ${latestDir}` })
    let torn: DataError | undefined
    const all = yield* trySync(() => readMetrics(metricsPath, { onTornLine: (dropped) => (torn = dropped) }), [DataError])
    const recorded = all.reduce((last, r) => (r.kind === "train" ? Math.max(last, r.step) : last), 0)
    const { model } = yield* checkpointEffect(latestDir, () => loadModel(latestDir))
    const optimizer = rlOptimizer(model.trainableVariables, algorithm.lr)
    const ckpt = yield* checkpointEffect(latestDir, () => loadCheckpoint(latestDir, { model, optimizer }))
    const problem =
      ckpt.step > algorithm.total_steps
        ? `its checkpoint is at step ${ckpt.step}, beyond the run's ${algorithm.total_steps} steps (--steps raises them)`
        : recorded < ckpt.step
          ? `${metricsPath} records steps up to ${recorded} but the checkpoint is at step ${ckpt.step}; they are not from the same run`
          : undefined
    if (problem !== undefined) {
      model.dispose()
      optimizer.dispose()
      return yield* new RunDirectoryError({ dir: out, reason: `cannot resume: ${problem}` })
    }
    if (torn !== undefined) emit(warning(torn.message))
    const records = all.filter((r) => r.step <= ckpt.step)
    // A resumed run drops the metrics it will recompute.
    if (records.length !== all.length || torn !== undefined) {
      yield* trySync(() => writeFileAtomic(metricsPath, records.map((r) => `${JSON.stringify(r)}\n`).join("")), [WriteError])
    }
    yield* trySync(() => writeRunConfig(out, { algorithm, settings, env: env.name }), [WriteError])
    emit({ kind: "status", message: `resuming ${out} at step ${ckpt.step}` })
    return { model, optimizer, startStep: ckpt.step, records }
  })

/**
 * A fresh run: the --init checkpoint, the cached warm start, a new warm start (then cached), or
 * with no warm-start steps the initial model itself.
 */
const freshPoint = (options: CheckedOptions, tokenizer: Tokenizer): Effect.Effect<StartingPoint, RunError> =>
  Effect.gen(function* () {
    const { out, algorithm, settings, env, emit } = options
    yield* trySync(() => checkFreshRunDirectory(out, options.allowOtherFiles === true), [RunDirectoryError])
    yield* trySync(() => writeRunConfig(out, { algorithm, settings, env: env.name }), [WriteError])
    // Moments the RL optimizer continues from (the warm start's, or the --init checkpoint's).
    let inherited: AdamWState | undefined
    let model: TransformerModel
    const init = options.init
    const numerics = yield* Effect.promise(backendNumerics)
    // Fresh demonstrations for every update rather than epochs over a small pool.
    const demonstrations =
      init === undefined && settings.warmstartSteps > 0
        ? yield* warmStartDemonstrations(env, algorithm.seed, settings.warmstartSteps * settings.warmstartBatchSize, settings.envOptions)
        : []
    const cached = join(options.cacheDir, `warmstart-${env.name}-${warmStartKey(env.name, settings, algorithm.seed, numerics, demonstrationsDigest(demonstrations))}`)
    if (init !== undefined || checkpointExists(cached)) {
      const from = init ?? cached
      const loaded = yield* checkpointEffect(from, () => loadModel(from))
      model = loaded.model
      inherited = loaded.checkpoint.optimizer?.state
      emit({ kind: "status", message: init !== undefined ? `initialized from ${init}` : `warm start reused from ${cached}` })
    } else if (settings.warmstartSteps === 0) {
      model = yield* trySync(() => initialModel(settings, tokenizer, algorithm.seed), [CheckpointError])
      emit({ kind: "status", message: `no warm start: RL from ${settings.model ?? `a fresh ${settings.preset} model`}` })
    } else {
      model = yield* trySync(() => initialModel(settings, tokenizer, algorithm.seed), [CheckpointError])
      emit({ kind: "status", message: `warm start: ${settings.warmstartSteps} steps, ${trainableSummary(model)}` })
      const result = yield* warmStart({
        env,
        model,
        tokenizer,
        steps: settings.warmstartSteps,
        batchSize: settings.warmstartBatchSize,
        lr: settings.warmstartLr,
        seed: algorithm.seed,
        demonstrations,
        envOptions: settings.envOptions,
        evalTasks: 0,
        onProgress: (p) => emit({ kind: "warmstart", step: p.step, steps: p.steps, loss: p.loss }),
      })
      inherited = result.optimizer.getState()
      const state = { model, optimizer: result.optimizer, step: 0, config: { env: env.name, settings }, extra: { warmStart: { finalLoss: result.finalLoss, steps: result.steps, drillSteps: result.drillSteps, numerics } } }
      yield* checkpointEffect(cached, () => saveCheckpoint(cached, state))
      result.optimizer.dispose()
      emit({ kind: "status", message: `warm start done (loss ${result.finalLoss.toFixed(3)}), cached in ${cached}` })
    }
    return { model, optimizer: rlOptimizer(model.trainableVariables, algorithm.lr, inherited), startStep: 0, records: [] }
  })

/**
 * The model a run starts from before any warm start: the Hugging Face folder `settings.model`
 * (with fresh LoRA adapters seeded by `seed` when `settings.lora` is set), else a preset
 * initialized from `seed`.
 *
 * @example
 * const model = initialModel(settings, tokenizer, 0)
 */
export const initialModel = (settings: Pick<RunSettings, "preset" | "model" | "lora">, tokenizer: Tokenizer, seed: number): TransformerModel => {
  if (settings.model === undefined) return new TransformerModel(modelConfig(settings.preset, tokenizer.vocabSize), seed)
  const model = loadHfModel(settings.model)
  if (settings.lora !== undefined) model.attachLora(new LoraAdapters(model.config, settings.lora, seed))
  return model
}

/**
 * Writes a trained Hugging Face-based model for other tools: the adapters in PEFT's layout
 * under `out/adapter` (LoRA), and the weights (merged when `merge`) as a Hugging Face folder
 * under `out/hf`. A LoRA model is merged in place. Returns the folders written.
 *
 * @example
 * exportRun(model, "runs/a", { merge: true }) // ["runs/a/adapter", "runs/a/hf"]
 */
export const exportRun = (model: TransformerModel, out: string, options: { readonly merge?: boolean } = {}): Array<string> => {
  if (model.source === undefined) return []
  const written: Array<string> = []
  if (model.lora !== undefined) {
    saveLoraAdapter(model, join(out, runFiles.adapter))
    written.push(join(out, runFiles.adapter))
    if (options.merge !== true) return written
    mergeLora(model)
  }
  saveHfModel(model, join(out, runFiles.hf))
  written.push(join(out, runFiles.hf))
  return written
}


/**
 * A whole run: warm start (cached) or an initial checkpoint, then RL steps of ICRL or GRPO with
 * held-out evaluations, checkpoints and `metrics.jsonl`; `resume` continues a run exactly from its
 * latest checkpoint (model, optimizer moments and step; rollouts are seeded by step).
 *
 * Before any file is written the settings are validated (Schema), the directory is checked (an
 * empty path, a run that should be resumed, or a directory holding other files is refused; see
 * {@link checkFreshRunDirectory}) and locked for the whole run ({@link lockRunDirectory}: a second
 * process fails at once, naming the first). Metrics lines are appended whole or not at all.
 *
 * @example
 * const result = yield* runTraining({ env, algorithm, settings, out: "runs/math-icrl-s0", cacheDir: "runs/.cache" })
 */
export const runTraining = (options: RunOptions): Effect.Effect<RunResult, RunError> =>
  Effect.gen(function* () {
    const emit = options.onEvent ?? (() => undefined)
    const settings = yield* Schema.decodeUnknownEffect(RunSettings)(options.settings).pipe(
      Effect.mapError((error) => new ConfigError({ field: "settings", detail: error.message.replace(/\s*\n\s*/g, " ") })),
    )
    const out = yield* trySync(() => runDirectoryPath(options.out), [RunDirectoryError])
    const resume = options.resume === true
    if (resume && !existsSync(join(out, runFiles.config))) {
      return yield* new RunDirectoryError({ dir: out, reason: `cannot resume: ${existsSync(out) ? `${runFiles.config} not found` : "does not exist"}` })
    }
    // Checked before the directory is created or locked (which would leave files in it), and again once it is locked.
    if (!resume) yield* trySync(() => checkFreshRunDirectory(out, options.allowOtherFiles === true), [RunDirectoryError])
    yield* Effect.try({
      try: () => mkdirSync(out, { recursive: true }),
      catch: (error) => new RunDirectoryError({ dir: out, reason: `cannot be created: ${error instanceof Error ? error.message : String(error)}` }),
    })
    return yield* Effect.acquireUseRelease(
      trySync(() => lockRunDirectory(out), [RunDirectoryError]),
      (lock) => {
        if (lock.unavailable !== undefined) emit(warning(`${out} is not locked against a second process: ${lock.unavailable}`))
        if (lock.previousHolder !== undefined) emit({ kind: "status", message: `took over ${out} from process ${lock.previousHolder}, which ended without releasing it` })
        return Effect.scoped(trainIn({ ...options, out, settings, emit }))
      },
      (lock) => Effect.sync(() => lock.release()),
    )
  })

/** {@link runTraining} in its checked and locked directory. */
const trainIn = (options: CheckedOptions): Effect.Effect<RunResult, RunError, Scope.Scope> =>
  Effect.gen(function* () {
    const { env, out, settings, algorithm, emit } = options
    const started = performance.now()
    const metricsPath = join(out, runFiles.metrics)
    const checkpointsDir = join(out, runFiles.checkpoints)
    const latestDir = join(checkpointsDir, runFiles.latest)
    const tokenizer: Tokenizer = settings.model === undefined ? new ByteTokenizer() : yield* trySync(() => HfTokenizer.load(settings.model as string), [CheckpointError])
    const { model, optimizer, startStep, records } = yield* (options.resume === true ? resumePoint(options) : freshPoint(options, tokenizer))
    const save = (step: number) =>
      Effect.gen(function* () {
        const state = { model, optimizer, step, config: { algorithm, settings, env: env.name } }
        const dir = join(checkpointsDir, stepDir(step))
        yield* checkpointEffect(dir, () => saveCheckpoint(dir, state))
        yield* checkpointEffect(latestDir, () => saveCheckpoint(latestDir, state))
      })
    if (options.resume !== true) yield* save(0)
    // The KL reference and the frozen critic are the run's initial policy.
    const initialDir = join(checkpointsDir, stepDir(0))
    const initial = () => checkpointEffect(initialDir, () => loadModel(initialDir)).pipe(Effect.map((loaded) => loaded.model))
    const reference = algorithm.use_kl_loss ? yield* initial() : undefined
    const frozenCritic = algorithm.critic_source === "frozen" ? yield* initial() : undefined
    const rollout =
      frozenCritic === undefined ? {} : { frozenCritic: new LocalPolicy(frozenCritic, tokenizer, { maxBatchSize: settings.sampleBatchSize, name: "frozen critic" }) }
    const policy = new LocalTrainablePolicy(model, tokenizer, optimizer, algorithm, {
      maxBatchSize: settings.sampleBatchSize,
      ...(reference === undefined ? {} : { reference }),
    })
    const testTasks = yield* env.tasks("test", { seed: settings.evalSeed, count: settings.evalTasks, options: settings.envOptions })
    const remote = options.rollout === undefined ? undefined : yield* RemoteRollouts.connect(model, tokenizer, options.rollout, out)
    // However the run ends, it leaves no weights written for the engines behind.
    if (remote !== undefined) yield* Effect.addFinalizer(() => Effect.sync(() => remote.removeWeights()))
    const sync = (step: number) =>
      remote === undefined
        ? Effect.succeed(0)
        : remote.sync(model, step).pipe(
            Effect.tap((r) => Effect.sync(() => step === startStep && emit({ kind: "status", message: `rollouts on ${remote.fleet.baseUrls.join(", ")}: ${r.kind === "adapter" ? `adapter ${r.model}` : "weights"} from ${r.path} loaded in ${r.seconds.toFixed(2)} s` }))),
            Effect.map((r) => r.seconds),
          )
    yield* sync(startStep)
    const sampler: Policy = remote?.fleet ?? policy
    const record = (r: MetricsLine) =>
      trySync(() => {
        appendLines(metricsPath, `${JSON.stringify(r)}\n`)
        records.push(r)
      }, [WriteError])
    const runEval = (step: number, passK: number) =>
      Effect.gen(function* () {
        const metrics = yield* evaluate(env, policy, { kind: "policy", policy }, testTasks, { seed: settings.evalSeed, passK, rounds: settings.evalRounds })
        const r = evalRecord(step, metrics)
        yield* record(r)
        emit({ kind: "eval", record: r })
        return r
      })
    if (startStep === 0 && !records.some((r) => r.kind === "eval" && r.step === 0)) {
      emit({ kind: "status", message: `evaluating the initial policy on ${testTasks.length} held-out tasks` })
      yield* runEval(0, 0)
    }
    let generatedTotal = records.reduce((a, r) => (r.kind === "train" ? Math.max(a, r.generatedTokensTotal) : a), 0)
    let skippedUpdates = optimizer.skippedCount
    const rlStarted = performance.now()
    let lastStep = startStep
    for (let step = startStep + 1; step <= algorithm.total_steps; step++) {
      if (settings.tokenBudget > 0 && generatedTotal >= settings.tokenBudget) {
        emit({ kind: "status", message: `token budget of ${settings.tokenBudget} reached after step ${step - 1}` })
        break
      }
      const t0 = performance.now()
      const tasks = yield* env.tasks("train", {
        seed: algorithm.seed,
        count: algorithm.train_batch_size,
        offset: (step - 1) * algorithm.train_batch_size,
        options: settings.envOptions,
      })
      const before = remote?.stats()
      const batch = yield* collectTrainingBatch(env, sampler, tasks, algorithm, step, rollout)
      const t1 = performance.now()
      const update = yield* policy.update(batch.samples)
      const t2 = performance.now()
      if (update.skipped) skippedUpdates++
      generatedTotal += batch.metrics.generatedTokens
      // The engines need the new weights only if another step samples.
      const syncSec = step < algorithm.total_steps ? yield* sync(step) : 0
      const after = remote?.stats()
      const stepSec = (performance.now() - t0) / 1000
      const { tokens: trainedTokens, ...updateStats } = update
      const r: TrainRecord = {
        step,
        kind: "train",
        ...batch.metrics,
        ...updateStats,
        samples: batch.samples.length,
        trainedTokens,
        generatedTokensTotal: generatedTotal,
        skippedUpdates,
        stepSec,
        tokensPerSecond: (batch.metrics.generatedTokens + trainedTokens) / Math.max(stepSec, 1e-9),
        elapsedSec: (performance.now() - started) / 1000,
        samplingSec: (t1 - t0) / 1000,
        updateSec: (t2 - t1) / 1000,
        syncSec,
        ...(before === undefined || after === undefined
          ? {}
          : { rolloutRequests: after.requests - before.requests, rolloutRetries: after.retries - before.retries, rolloutMismatches: after.mismatches - before.mismatches }),
      }
      yield* record(r)
      const perStep = (performance.now() - rlStarted) / 1000 / (step - startStep)
      emit({ kind: "train", record: r, totalSteps: algorithm.total_steps, etaSec: perStep * (algorithm.total_steps - step) })
      lastStep = step
      const isLast = step === algorithm.total_steps
      if (!isLast && settings.evalEvery > 0 && step % settings.evalEvery === 0) yield* runEval(step, 0)
      if (!isLast && settings.checkpointEvery > 0 && step % settings.checkpointEvery === 0) yield* save(step)
      yield* Effect.yieldNow
    }
    const finalEval =
      records.some((r) => r.kind === "eval" && r.step === lastStep) && settings.passK <= 1 ? undefined : yield* runEval(lastStep, settings.passK)
    yield* save(lastStep)
    if (remote !== undefined) {
      const stats = remote.stats()
      const engines = stats.engines.map((e) => `${e.baseUrl} ${e.requests}${e.failures > 0 ? ` (${e.failures} failed attempts)` : ""}`).join(", ")
      emit({ kind: "status", message: `rollout requests by engine: ${engines}; ${stats.retries} retried, ${stats.mismatches} dropped for tokens that did not round-trip${stats.lastMismatch === undefined ? "" : ` (last: ${stats.lastMismatch})`}` })
      const problem = yield* remote.release()
      if (problem !== undefined) emit(warning(`the engines kept the last adapter: ${problem}`))
    }
    const exported = yield* trySync(() => exportRun(model, out, { merge: settings.merge === true }), [CheckpointError, WriteError])
    for (const dir of exported) emit({ kind: "status", message: `wrote ${dir}` })
    const evals = records.filter((r): r is EvalRecord => r.kind === "eval")
    reference?.dispose()
    frozenCritic?.dispose()
    const last = finalEval ?? evals[evals.length - 1]
    const result: RunResult = {
      out,
      steps: lastStep,
      ...(evals[0] === undefined ? {} : { first: evals[0] }),
      ...(last === undefined ? {} : { last }),
      elapsedSec: (performance.now() - started) / 1000,
    }
    model.dispose()
    optimizer.dispose()
    tf.disposeVariables()
    return result
  })

/** "N parameters", or "N LoRA parameters on a frozen base of M" with adapters attached. */
const trainableSummary = (model: TransformerModel): string => {
  const n = (x: number) => x.toLocaleString("en-US")
  return model.lora === undefined
    ? `${n(model.parameterCount())} parameters`
    : `${n(model.lora.parameterCount())} LoRA parameters on a frozen base of ${n(model.parameterCount())}`
}

/** The directory name of the checkpoint after `step` updates. */
export const stepDir = (step: number): string => `step-${String(step).padStart(6, "0")}`
