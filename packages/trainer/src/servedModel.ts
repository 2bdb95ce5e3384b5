import { CheckpointError } from "@icrl/core"
import { loadLocalModel } from "./localModel.ts"
import type { LoraAdapters } from "./lora.ts"
import type { ModelConfig, TransformerModel } from "./model.ts"
import { loadLoraAdapter } from "./peft.ts"
import { ApiError, invalidRequest } from "./serverProtocol.ts"

/** A LoRA adapter loaded at run time, under its name. */
export interface NamedAdapter {
  readonly name: string
  readonly path: string
}

const reasonOf = (cause: unknown): string => (cause instanceof CheckpointError ? cause.message : cause instanceof Error ? cause.message : String(cause))

/** The first field in which two model configs differ, as "field a vs b". */
const configDifference = (a: ModelConfig, b: ModelConfig): string | undefined => {
  for (const key of Object.keys(a) as Array<keyof ModelConfig>) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return `${key} ${JSON.stringify(b[key])} instead of ${JSON.stringify(a[key])}`
  }
  return undefined
}

/**
 * The model a server samples from, the LoRA adapters loaded into it at run time, and the lock
 * that keeps weight changes out of a running batch: sampling runs inside {@link exclusive}, an
 * adapter is attached only for the rows that name it, and unloading or replacing weights waits
 * for the batch in progress. Errors are {@link ApiError}s (400 naming the field or file, 404 for
 * an unknown adapter).
 *
 * @example
 * const served = new ServedModel(model, { owned: true, maxAdapters: 8 })
 * await served.loadAdapter("step-1", "runs/a/rollout/step-000001")
 * await served.exclusive(() => served.withAdapter("step-1", (m) => generateInTurns(m, tok, requests)))
 */
export class ServedModel {
  readonly maxAdapters: number
  #model: TransformerModel
  readonly #owned: boolean
  readonly #adapters = new Map<string, { readonly adapters: LoraAdapters; readonly path: string }>()
  #tail: Promise<unknown> = Promise.resolve()
  #loads = 0
  /** Whether the model holds adapters of its own (from --adapter or a LoRA checkpoint), so none can be attached per request. */
  #ownAdapters: boolean

  constructor(model: TransformerModel, options: { readonly owned: boolean; readonly maxAdapters: number }) {
    this.#model = model
    this.#ownAdapters = model.lora !== undefined
    this.#owned = options.owned
    this.maxAdapters = options.maxAdapters
  }

  /** The current model (changes after {@link reload}). */
  get model(): TransformerModel {
    return this.#model
  }

  /** How many times the weights were replaced. */
  get reloads(): number {
    return this.#loads
  }

  /** The adapters loaded at run time, in load order. */
  adapters(): Array<NamedAdapter> {
    return [...this.#adapters].map(([name, a]) => ({ name, path: a.path }))
  }

  has(name: string): boolean {
    return this.#adapters.has(name)
  }

  /** Runs `f` when nothing else runs inside this lock (calls run one at a time, in call order). */
  exclusive<T>(f: () => Promise<T> | T): Promise<T> {
    const run = this.#tail.then(f, f)
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Runs `f` on the model with the adapter `name` attached (none when undefined); call it inside {@link exclusive}. */
  async withAdapter<T>(name: string | undefined, f: (model: TransformerModel) => Promise<T>): Promise<T> {
    const entry = name === undefined ? undefined : this.#adapters.get(name)
    if (entry === undefined) return f(this.#model)
    this.#model.attachLora(entry.adapters)
    try {
      return await f(this.#model)
    } finally {
      this.#model.detachLora()
    }
  }

  /** Reads the PEFT adapter folder `path` and keeps it under `name`. */
  async loadAdapter(name: string, path: string): Promise<void> {
    if (this.#ownAdapters) {
      throw invalidRequest("lora_name", "this server's model already has LoRA adapters attached (it was started with --adapter or from a LoRA checkpoint); serve the base model to load adapters at run time")
    }
    if (this.#adapters.has(name)) throw invalidRequest("lora_name", `The lora adapter '${name}' has already been loaded.`, "adapter_exists")
    if (this.#adapters.size >= this.maxAdapters) {
      throw invalidRequest("lora_name", `${this.#adapters.size} adapters are loaded, the most this server holds (--max-adapters); unload one first`, "too_many_adapters")
    }
    let adapters: LoraAdapters
    try {
      adapters = loadLoraAdapter(path, this.#model.config)
    } catch (cause) {
      throw invalidRequest("lora_path", `cannot load the adapter '${name}': ${reasonOf(cause)}`, "invalid_adapter")
    }
    // Another load of the same name may have finished meanwhile.
    if (this.#adapters.has(name)) {
      adapters.dispose()
      throw invalidRequest("lora_name", `The lora adapter '${name}' has already been loaded.`, "adapter_exists")
    }
    this.#adapters.set(name, { adapters, path })
  }

  /** Forgets the adapter `name` and frees it once no batch uses it. */
  unloadAdapter(name: string): Promise<void> {
    const entry = this.#adapters.get(name)
    if (entry === undefined) {
      return Promise.reject(new ApiError({ status: 404, message: `The lora adapter '${name}' cannot be found.`, type: "invalid_request_error", param: "lora_name", code: "adapter_not_found" }))
    }
    this.#adapters.delete(name)
    return this.exclusive(() => entry.adapters.dispose())
  }

  /**
   * Replaces the weights with the checkpoint or Hugging Face folder at `path`, which must hold a
   * model of the same configuration; swapped in between batches. Adapters loaded at run time stay.
   */
  async reload(path: string): Promise<void> {
    let next: TransformerModel
    try {
      next = (await loadLocalModel(path)).model
    } catch (cause) {
      throw invalidRequest("model_path", `cannot load weights: ${reasonOf(cause)}`, "invalid_weights")
    }
    const difference = configDifference(this.#model.config, next.config)
    const problem =
      difference !== undefined
        ? `${path} holds another model shape than the one served: ${difference}`
        : next.lora !== undefined && this.#adapters.size > 0
          ? `${path} holds LoRA adapters of its own, and adapters are loaded at run time; unload them first`
          : undefined
    if (problem !== undefined) {
      next.dispose()
      throw invalidRequest("model_path", problem, "invalid_weights")
    }
    await this.exclusive(() => {
      const old = this.#model
      this.#model = next
      this.#ownAdapters = next.lora !== undefined
      this.#loads += 1
      if (this.#owned || this.#loads > 1) old.dispose()
    })
  }

  /** Frees the model (when owned or loaded here) and every adapter, once no batch runs. */
  dispose(): Promise<void> {
    return this.exclusive(() => {
      for (const entry of this.#adapters.values()) entry.adapters.dispose()
      this.#adapters.clear()
      if (this.#owned || this.#loads > 0) this.#model.dispose()
    })
  }
}
