import * as tf from "@tensorflow/tfjs-core"
import { median, Rng } from "@icrl/core"
import { type BackendName, selectBackend } from "./backend.ts"
import { modelConfig, type PresetName, TransformerModel } from "./model.ts"
import { AdamW } from "./optimizer.ts"
import { profileKernels, type KernelProfile } from "./kernelProfile.ts"
import { generate } from "./sampler.ts"
import type { ScoringExample } from "./scoring.ts"
import { ByteTokenizer } from "./tokenizer.ts"
import { sftLoss } from "./warmstart.ts"

export interface BenchModelOptions {
  readonly preset?: PresetName
  readonly backend?: BackendName
  readonly threads?: number
  /** Timed repeats of each measurement (the median is reported). */
  readonly repeats?: number
  /** Training batch: sequences x tokens per sequence. */
  readonly trainBatch?: number
  readonly trainSeqLen?: number
  /** Sampling batch, prompt tokens and new tokens per sequence. */
  readonly sampleBatch?: number
  readonly promptTokens?: number
  readonly newTokens?: number
  readonly seed?: number
  /** Skip backend selection (the caller made a backend current). */
  readonly keepBackend?: boolean
  /** After the timed repeats, one more training step and sampling run with every kernel timed. */
  readonly profile?: boolean
}

export interface BenchModelResult {
  readonly preset: PresetName
  readonly parameters: number
  readonly backend: string
  readonly backendDescription: string
  readonly train: {
    readonly batch: number
    readonly seqLen: number
    /** Median training tokens per second (forward + backward + AdamW). */
    readonly tokensPerSecond: number
    readonly stepMs: number
    readonly stepMsAll: ReadonlyArray<number>
    /** With `profile`: where one more step's time went. */
    readonly profile?: KernelProfile
  }
  readonly sample: {
    readonly batch: number
    readonly promptTokens: number
    readonly newTokens: number
    /** Median newly generated tokens per second (KV cache, temperature 1). */
    readonly tokensPerSecond: number
    readonly ms: number
    readonly msAll: ReadonlyArray<number>
    /** With `profile`: where one more sampling run's time went. */
    readonly profile?: KernelProfile
  }
}

/**
 * Measures training and sampling throughput of a preset: training tokens/s of
 * forward + backward + AdamW on `trainBatch x trainSeqLen` tokens, and sampling new tokens/s
 * of `sampleBatch` sequences (`promptTokens` + `newTokens`, KV cache). Medians of `repeats`
 * after one warm-up each.
 *
 * @example
 * const result = await benchModel({ preset: "small", backend: "auto" })
 * console.log(JSON.stringify(result))
 */
export const benchModel = async (options: BenchModelOptions = {}): Promise<BenchModelResult> => {
  const preset = options.preset ?? "small"
  const repeats = Math.max(1, options.repeats ?? 5)
  const B = options.trainBatch ?? 64
  const T = options.trainSeqLen ?? 64
  const SB = options.sampleBatch ?? 64
  const SP = options.promptTokens ?? 16
  const SN = options.newTokens ?? 48
  const info =
    options.keepBackend === true
      ? { backend: tf.getBackend(), description: tf.getBackend() }
      : await selectBackend(options.backend ?? "auto", options.threads === undefined ? {} : { threads: options.threads })
  const tokenizer = new ByteTokenizer()
  const model = new TransformerModel(modelConfig(preset, tokenizer.vocabSize), options.seed ?? 0)
  const rng = new Rng(options.seed ?? 0)
  const byte = () => 32 + rng.int(95)
  try {
    // Training: beginning-of-sequence then T tokens, loss on all T.
    const batch: Array<ScoringExample> = Array.from({ length: B }, () => ({
      promptIds: [tokenizer.bosId],
      completionIds: Array.from({ length: T }, byte),
    }))
    const optimizer = new AdamW(model.variables, { lr: 1e-4 })
    const stepMsAll: Array<number> = []
    let trainProfile: KernelProfile | undefined
    try {
      for (let i = 0; i <= repeats; i++) {
        const t0 = performance.now()
        optimizer.step(() => sftLoss(model, batch))
        if (i > 0) stepMsAll.push(performance.now() - t0)
      }
      if (options.profile === true) trainProfile = profileKernels(() => optimizer.step(() => sftLoss(model, batch))).profile
    } finally {
      optimizer.dispose()
    }
    // Sampling: printable prompts of SP - 1 bytes (plus beginning-of-sequence).
    const requests = Array.from({ length: SB }, (_, i) => ({
      prompt: String.fromCharCode(...Array.from({ length: SP - 1 }, byte)),
      maxTokens: SN,
      temperature: 1,
      seed: i,
    }))
    const msAll: Array<number> = []
    const rates: Array<number> = []
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now()
      const out = generate(model, tokenizer, requests, { maxBatchSize: SB })
      const ms = performance.now() - t0
      if (i === 0) continue
      msAll.push(ms)
      rates.push((out.reduce((n, c) => n + c.tokenIds.length, 0) / ms) * 1000)
    }
    const sampleProfile = options.profile === true ? profileKernels(() => generate(model, tokenizer, requests, { maxBatchSize: SB })).profile : undefined
    const stepMs = median(stepMsAll)
    return {
      preset,
      parameters: model.parameterCount(),
      backend: info.backend,
      backendDescription: info.description,
      train: { batch: B, seqLen: T, tokensPerSecond: (B * T * 1000) / stepMs, stepMs, stepMsAll, ...(trainProfile === undefined ? {} : { profile: trainProfile }) },
      sample: {
        batch: SB,
        promptTokens: SP,
        newTokens: SN,
        tokensPerSecond: median(rates),
        ms: median(msAll),
        msAll,
        ...(sampleProfile === undefined ? {} : { profile: sampleProfile }),
      },
    }
  } finally {
    model.dispose()
  }
}
