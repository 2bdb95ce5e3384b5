import { CheckpointError, RolloutFleet, WriteError, type ConfigError, type PolicyError, type RolloutFleetStats } from "@icrl/core"
import { Effect } from "effect"
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"
import { checkpointEffect, saveCheckpoint } from "./checkpoint.ts"
import { saveHfModel } from "./hfModel.ts"
import type { TransformerModel } from "./model.ts"
import { saveLoraAdapter } from "./peft.ts"
import { rolloutTokenCheck } from "./rolloutTokenCheck.ts"
import type { Tokenizer } from "./tokenizer.ts"

/** Where a run samples its rollouts when not in-process: OpenAI-compatible engines, and how to reach them. */
export interface RemoteRolloutOptions {
  /** The engines' API roots (`http://host:port/v1`). */
  readonly baseUrls: ReadonlyArray<string>
  readonly apiKey?: string
  /**
   * Where the weights for the engines are written, a path the engines read under the same name
   * (a shared file system when they run elsewhere); default `<run>/rollout-weights`.
   */
  readonly weightsDir?: string
  /** Most requests in flight per engine (default 16). */
  readonly maxInFlight?: number
  /** Limit of one generation attempt in ms (default 120,000). */
  readonly timeoutMs?: number
  /** Retries of a failed request or sync call (default 4). */
  readonly maxRetries?: number
  /** First backoff delay in ms, doubling per retry (default 500). */
  readonly backoffMs?: number
}

/** What one weight sync did. */
export interface SyncReport {
  /** The model the next requests name (the adapter just loaded, or the engines' base model). */
  readonly model: string
  /** `adapter` (LoRA, PEFT folder) or `weights` (the whole model, reloaded from disk). */
  readonly kind: "adapter" | "weights"
  readonly path: string
  readonly seconds: number
}

const stepFolder = (step: number): string => `step-${String(step).padStart(6, "0")}`

/**
 * A run's rollouts on a fleet of inference engines, kept in step with the trainer's weights.
 * {@link sync} writes the current weights and makes every engine sample from them: for a model
 * with LoRA adapters, the adapters in PEFT's layout loaded under a new name
 * (`POST /v1/load_lora_adapter`; the previous adapter is then unloaded and the next requests
 * name the new one), else the whole model (a checkpoint for a preset, a Hugging Face folder for
 * a `--model` run) reloaded from disk (`POST /update_weights_from_disk`). Only the latest
 * weights folder is kept. Generations check their tokens against the trainer's tokenizer
 * ({@link rolloutTokenCheck}); prompts go through the engines' chat template when the tokenizer
 * has one, as the trainer's `encodePrompt` does.
 *
 * @example
 * const remote = yield* RemoteRollouts.connect(model, tokenizer, { baseUrls }, "runs/a")
 * yield* remote.sync(model, 0)
 * const batch = yield* collectTrainingBatch(env, remote.fleet, tasks, config, 1)
 */
export class RemoteRollouts {
  readonly fleet: RolloutFleet
  readonly weightsDir: string
  readonly #tag: string
  readonly #base: string
  #adapter: string | undefined
  #folder: string | undefined
  /** Weights folders written and not yet removed (the last one synced, and one being written). */
  readonly #written = new Set<string>()

  private constructor(fleet: RolloutFleet, weightsDir: string, base: string, tag: string) {
    this.fleet = fleet
    this.weightsDir = weightsDir
    this.#base = base
    this.#tag = tag
  }

  /**
   * A fleet for the options, checked by asking every engine for its models; a ConfigError names
   * an unusable option, a PolicyError an engine that cannot be reached or serves another model.
   *
   * @example
   * const remote = yield* RemoteRollouts.connect(model, tokenizer, { baseUrls: ["http://127.0.0.1:8001/v1"] }, "runs/a")
   */
  static connect(model: TransformerModel, tokenizer: Tokenizer, options: RemoteRolloutOptions, out: string): Effect.Effect<RemoteRollouts, ConfigError | PolicyError> {
    return Effect.gen(function* () {
      const chat = tokenizer.chatTemplate !== undefined
      const fleet = yield* RolloutFleet.make({
        baseUrls: options.baseUrls,
        ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
        endpoint: chat ? "chat" : "completions",
        // Qwen3-style templates as the trainer renders them (vLLM and SGLang read this field).
        ...(chat ? { extraBody: { chat_template_kwargs: { enable_thinking: false } } } : {}),
        ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
        ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
        checkTokens: rolloutTokenCheck(tokenizer, model.config),
      })
      const base = yield* fleet.connect()
      const tag = `icrl-${process.pid.toString(36)}${Date.now().toString(36)}`
      return new RemoteRollouts(fleet, resolve(options.weightsDir ?? join(out, "rollout-weights")), base, tag)
    })
  }

  /** The fleet's counters so far. */
  stats(): RolloutFleetStats {
    return this.fleet.stats()
  }

  /**
   * Makes every engine sample from `model`'s current weights, written as the weights after
   * `step` updates. Fails with a PolicyError naming an engine that refused them (after retries),
   * or with the error of the write.
   *
   * @example
   * const { seconds } = yield* remote.sync(model, 3)
   */
  sync(model: TransformerModel, step: number): Effect.Effect<SyncReport, PolicyError | CheckpointError | WriteError> {
    const self = this
    return Effect.gen(function* () {
      const started = performance.now()
      const folder = join(self.weightsDir, stepFolder(step))
      const previous = self.#folder
      self.#written.add(folder)
      let report: Omit<SyncReport, "seconds">
      if (model.lora !== undefined) {
        yield* Effect.try({ try: () => saveLoraAdapter(model, folder), catch: (cause) => writeError(folder, cause) })
        const name = `${self.#tag}-${stepFolder(step)}`
        yield* self.fleet.loadAdapter(name, folder)
        self.fleet.useModel(name)
        if (self.#adapter !== undefined) yield* self.fleet.unloadAdapter(self.#adapter)
        self.#adapter = name
        report = { model: name, kind: "adapter", path: folder }
      } else {
        if (model.source !== undefined) yield* Effect.try({ try: () => saveHfModel(model, folder), catch: (cause) => writeError(folder, cause) })
        else yield* checkpointEffect(folder, () => saveCheckpoint(folder, { model, step, config: { rolloutWeights: true } }))
        yield* self.fleet.reloadWeights(folder)
        self.fleet.useModel(self.#base)
        report = { model: self.#base, kind: "weights", path: folder }
      }
      self.#folder = folder
      if (previous !== undefined && previous !== folder) {
        rmSync(previous, { recursive: true, force: true })
        self.#written.delete(previous)
      }
      return { ...report, seconds: (performance.now() - started) / 1000 }
    })
  }

  /**
   * Unloads the last adapter from the engines and removes the weights folders (the engines
   * keep serving reloaded full weights; see {@link removeWeights}). Failures are returned as a message, not raised: the
   * run's results are already saved.
   *
   * @example
   * const problem = yield* remote.release()
   */
  release(): Effect.Effect<string | undefined> {
    const self = this
    return Effect.gen(function* () {
      const adapter = self.#adapter
      self.#adapter = undefined
      const problem =
        adapter === undefined
          ? undefined
          : yield* self.fleet.unloadAdapter(adapter).pipe(Effect.match({ onFailure: (error) => error.message, onSuccess: () => undefined }))
      self.removeWeights()
      return problem
    })
  }

  /**
   * Removes the weights folders this run wrote, and the weights directory once empty, without
   * asking the engines anything (they hold what they loaded in memory): what a run that stops,
   * ended or failed, leaves behind is its checkpoints only.
   *
   * @example
   * remote.removeWeights()
   */
  removeWeights(): void {
    for (const folder of this.#written) rmSync(folder, { recursive: true, force: true })
    this.#written.clear()
    this.#folder = undefined
    if (existsSync(this.weightsDir) && readdirSync(this.weightsDir).length === 0) rmdirSync(this.weightsDir)
  }
}

const writeError = (path: string, cause: unknown): WriteError | CheckpointError =>
  cause instanceof WriteError || cause instanceof CheckpointError ? cause : new WriteError({ path, reason: cause instanceof Error ? cause.message : String(cause) })
