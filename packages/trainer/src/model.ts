import * as tf from "@tensorflow/tfjs-core"
import { Rng } from "@icrl/core"
import "@tensorflow/tfjs-core/dist/register_all_gradients.js"
import { loraLinear, type LoraAdapters, type LoraTarget } from "./lora.ts"
import { fusedAttention, fusedKernelsActive, rotaryTables, type RotaryTables } from "./fusedOps.ts"
import { embedRows, rmsNorm, swiglu } from "./ops.ts"

/** Shape of the decoder-only transformer. */
export interface ModelConfig {
  readonly vocabSize: number
  readonly dModel: number
  readonly nLayers: number
  readonly nHeads: number
  /** Key/value heads (grouped-query attention); divides `nHeads`. */
  readonly nKvHeads: number
  /** Hidden width of the SwiGLU MLP. */
  readonly dFf: number
  /** Longest sequence (prompt + completion) the rotary tables cover. */
  readonly maxSeqLen: number
  readonly ropeTheta: number
  readonly normEps: number
  /** Width of one attention head; defaults to `dModel / nHeads`. */
  readonly headDim?: number
  /** Output projection shares the embedding matrix (default true); false adds `lm_head.weight`. */
  readonly tieEmbeddings?: boolean
}

/**
 * The head width of a config: its explicit `headDim`, else `dModel / nHeads`.
 *
 * @example
 * headDimOf({ ...modelConfig("small", 259), headDim: 64 }) // 64
 */
export const headDimOf = (c: ModelConfig): number => c.headDim ?? c.dModel / c.nHeads

export type PresetName = "tiny" | "small" | "medium" | "large"

export const presetNames: ReadonlyArray<PresetName> = ["tiny", "small", "medium", "large"]

/**
 * Size presets. `tiny` is for tests, `small` (about 0.89M parameters with the byte tokenizer:
 * d 128, 4 layers, 4 heads, SwiGLU 384) is the CPU default, the larger ones are for GPUs.
 */
export const presets: Readonly<Record<PresetName, Omit<ModelConfig, "vocabSize">>> = {
  tiny: { dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 64, maxSeqLen: 256, ropeTheta: 10000, normEps: 1e-6 },
  small: { dModel: 128, nLayers: 4, nHeads: 4, nKvHeads: 4, dFf: 384, maxSeqLen: 1024, ropeTheta: 10000, normEps: 1e-6 },
  medium: { dModel: 256, nLayers: 8, nHeads: 8, nKvHeads: 4, dFf: 768, maxSeqLen: 2048, ropeTheta: 10000, normEps: 1e-6 },
  large: { dModel: 512, nLayers: 12, nHeads: 8, nKvHeads: 4, dFf: 1536, maxSeqLen: 2048, ropeTheta: 1000000, normEps: 1e-6 },
}

/**
 * A full config from a preset and a vocabulary size.
 *
 * @example
 * const config = modelConfig("small", new ByteTokenizer().vocabSize)
 */
export const modelConfig = (preset: PresetName, vocabSize: number): ModelConfig => ({ ...presets[preset], vocabSize })

/** How a batch is laid out for {@link TransformerModel.hidden}. */
export interface HiddenOptions {
  /**
   * Left padding of each row: row b's first `padLengths[b]` columns are padding that no
   * position attends to, and its real tokens take rotary positions 0, 1, ...
   */
  readonly padLengths?: ReadonlyArray<number>
}

/** The variables of one transformer block. */
export interface LayerWeights {
  readonly attnNorm: tf.Variable
  readonly wq: tf.Variable
  readonly wk: tf.Variable
  readonly wv: tf.Variable
  readonly qNorm: tf.Variable
  readonly kNorm: tf.Variable
  readonly wo: tf.Variable
  readonly mlpNorm: tf.Variable
  readonly wGate: tf.Variable
  readonly wUp: tf.Variable
  readonly wDown: tf.Variable
}

/**
 * Names and shapes of a config's variables, in the model's variable order: the embedding,
 * each layer's norms and projections ([in, out]), the final norm, and `lm_head.weight` when
 * the embeddings are untied.
 *
 * @example
 * variableShapes(modelConfig("tiny", 259))[0] // { name: "embed.weight", shape: [259, 32] }
 */
export const variableShapes = (c: ModelConfig): Array<{ readonly name: string; readonly shape: ReadonlyArray<number> }> => {
  const { vocabSize: V, dModel: d, nHeads: H, nKvHeads: Hkv, dFf } = c
  const hd = headDimOf(c)
  const out: Array<{ name: string; shape: ReadonlyArray<number> }> = [{ name: "embed.weight", shape: [V, d] }]
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}.`
    out.push(
      { name: `${p}attn_norm.weight`, shape: [d] },
      { name: `${p}attn.q.weight`, shape: [d, H * hd] },
      { name: `${p}attn.k.weight`, shape: [d, Hkv * hd] },
      { name: `${p}attn.v.weight`, shape: [d, Hkv * hd] },
      { name: `${p}attn.q_norm.weight`, shape: [hd] },
      { name: `${p}attn.k_norm.weight`, shape: [hd] },
      { name: `${p}attn.o.weight`, shape: [H * hd, d] },
      { name: `${p}mlp_norm.weight`, shape: [d] },
      { name: `${p}mlp.gate.weight`, shape: [d, dFf] },
      { name: `${p}mlp.up.weight`, shape: [d, dFf] },
      { name: `${p}mlp.down.weight`, shape: [dFf, d] },
    )
  }
  out.push({ name: "final_norm.weight", shape: [d] })
  if (c.tieEmbeddings === false) out.push({ name: "lm_head.weight", shape: [V, d] })
  return out
}

/** How {@link TransformerModel} gets its initial weights. */
export interface ModelInit {
  /**
   * The values of variable `name` (shape `shape`, row-major); without it weights are drawn
   * from the seed. Throwing aborts construction with nothing left allocated.
   */
  readonly weights?: (name: string, shape: ReadonlyArray<number>) => Float32Array
  /** The Hugging Face folder the weights came from (its tokenizer and config travel with the model). */
  readonly source?: string
}

const maskValue = -1e9
let instances = 0

/** A layer's attention: projections q, k, v in token rows to the merged heads [B*T, H*hd]. */
type Attend = (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, weights: LayerWeights) => tf.Tensor2D

const validateConfig = (c: ModelConfig): void => {
  const ints: ReadonlyArray<"vocabSize" | "dModel" | "nLayers" | "nHeads" | "nKvHeads" | "dFf" | "maxSeqLen"> = ["vocabSize", "dModel", "nLayers", "nHeads", "nKvHeads", "dFf", "maxSeqLen"]
  for (const key of ints) {
    const value = c[key]
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`model config ${key} must be a positive integer, got ${value}`)
  }
  if (c.headDim === undefined && c.dModel % c.nHeads !== 0) throw new RangeError(`model config dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})`)
  if (c.nHeads % c.nKvHeads !== 0) throw new RangeError(`model config nHeads (${c.nHeads}) must be divisible by nKvHeads (${c.nKvHeads})`)
  const hd = headDimOf(c)
  if (!Number.isInteger(hd) || hd < 2 || hd % 2 !== 0) throw new RangeError(`model config head dimension must be a positive even integer, got ${hd}`)
  if (!(c.ropeTheta > 0) || !(c.normEps > 0)) throw new RangeError("model config ropeTheta and normEps must be positive")
}

/**
 * Decoder-only transformer with Qwen3-style blocks: pre-RMSNorm, rotary position embeddings,
 * grouped-query attention with q/k RMSNorm, SwiGLU MLP, input/output embeddings tied unless
 * the config says otherwise. Weights are TensorFlow.js variables initialized deterministically
 * from `seed`, or taken from `init.weights`. Linear weights are stored [in, out] (x @ W). With
 * LoRA adapters attached ({@link attachLora}) every targeted projection adds its low-rank
 * path and only the adapters are trainable. Every op it uses has forward and gradient kernels
 * on the wasm, cpu and tensorflow backends.
 *
 * @example
 * const model = new TransformerModel(modelConfig("tiny", 259), 0)
 * const logits = model.forward(tf.tensor2d([[257, 72, 105]], [1, 3], "int32")) // [1, 3, 259]
 */
export class TransformerModel {
  readonly config: ModelConfig
  /** The trainable variables in a stable order, parallel to {@link variableNames}. */
  readonly variables: ReadonlyArray<tf.Variable>
  /** Stable names of the variables (`embed.weight`, `layers.0.attn.q.weight`, ...). */
  readonly variableNames: ReadonlyArray<string>
  readonly headDim: number
  /** The Hugging Face folder the weights were loaded from, if any. */
  readonly source: string | undefined
  readonly #embed: tf.Variable
  /** The output projection [V, d]: its own variable when untied, else the embedding. */
  readonly #head: tf.Variable
  readonly #layers: ReadonlyArray<LayerWeights>
  readonly #finalNorm: tf.Variable
  #lora: LoraAdapters | undefined
  /** Rotate-half as a matrix: x @ rotate = concat(-x2, x1). */
  readonly #rotate: tf.Tensor2D
  readonly #invFreq: Float64Array
  /** cos/sin tables for the fused attention, made on first use; the last covers the most positions. */
  #rotary: Array<RotaryTables> = []
  #disposed = false

  constructor(config: ModelConfig, seed: number, init: ModelInit = {}) {
    validateConfig(config)
    this.config = { ...config }
    this.source = init.source
    const hd = headDimOf(config)
    this.headDim = hd
    const rng = new Rng(seed)
    const prefix = `m${instances++}/`
    const vars: Array<tf.Variable> = []
    const names: Array<string> = []
    const shapes = new Map(variableShapes(config).map((s) => [s.name, s.shape]))
    const make = (name: string, std: number): tf.Variable => {
      const shape = shapes.get(name) as ReadonlyArray<number>
      const size = shape.reduce((a, b) => a * b, 1)
      let data: Float32Array
      if (init.weights !== undefined) {
        data = init.weights(name, shape)
        if (data.length !== size) throw new RangeError(`initial weights of ${name} have ${data.length} values, shape [${shape.join(", ")}] needs ${size}`)
      } else {
        data = new Float32Array(size)
        if (std === 0) data.fill(1)
        else for (let i = 0; i < size; i++) data[i] = rng.normal() * std
      }
      // The variable shares the initial tensor's storage; releasing the tensor leaves the variable
      // the only owner, so that disposing the model frees it.
      const initial = tf.tensor(data, shape.slice(), "float32")
      const variable = tf.variable(initial, true, prefix + name)
      initial.dispose()
      vars.push(variable)
      names.push(name)
      return variable
    }
    try {
      const std = 0.02
      const outStd = std / Math.sqrt(2 * config.nLayers)
      this.#embed = make("embed.weight", std)
      const layers: Array<LayerWeights> = []
      for (let l = 0; l < config.nLayers; l++) {
        const p = `layers.${l}.`
        layers.push({
          attnNorm: make(`${p}attn_norm.weight`, 0),
          wq: make(`${p}attn.q.weight`, std),
          wk: make(`${p}attn.k.weight`, std),
          wv: make(`${p}attn.v.weight`, std),
          qNorm: make(`${p}attn.q_norm.weight`, 0),
          kNorm: make(`${p}attn.k_norm.weight`, 0),
          wo: make(`${p}attn.o.weight`, outStd),
          mlpNorm: make(`${p}mlp_norm.weight`, 0),
          wGate: make(`${p}mlp.gate.weight`, std),
          wUp: make(`${p}mlp.up.weight`, std),
          wDown: make(`${p}mlp.down.weight`, outStd),
        })
      }
      this.#layers = layers
      this.#finalNorm = make("final_norm.weight", 0)
      this.#head = config.tieEmbeddings === false ? make("lm_head.weight", std) : this.#embed
    } catch (cause) {
      for (const v of vars) v.dispose()
      throw cause
    }
    this.variables = vars
    this.variableNames = names
    const half = hd / 2
    const rot = new Float32Array(hd * hd)
    for (let j = 0; j < half; j++) {
      rot[(j + half) * hd + j] = -1
      rot[j * hd + j + half] = 1
    }
    this.#rotate = tf.tensor2d(rot, [hd, hd])
    this.#invFreq = new Float64Array(half)
    for (let i = 0; i < half; i++) this.#invFreq[i] = Math.pow(config.ropeTheta, (-2 * i) / hd)
  }

  /** The variables by role (the same tensors as {@link variables}); `head` is `embed` when tied. */
  get weights(): {
    readonly embed: tf.Variable
    readonly head: tf.Variable
    readonly finalNorm: tf.Variable
    readonly layers: ReadonlyArray<LayerWeights>
  } {
    this.#check()
    return { embed: this.#embed, head: this.#head, finalNorm: this.#finalNorm, layers: this.#layers }
  }

  /** The attached LoRA adapters, if any. */
  get lora(): LoraAdapters | undefined {
    return this.#lora
  }

  /**
   * Attaches LoRA adapters (built for this model's config): from now on the targeted
   * projections add their low-rank paths and {@link trainableVariables} are the adapters'.
   * The model owns them until {@link detachLora}: `dispose()` releases them too.
   */
  attachLora(adapters: LoraAdapters): void {
    this.#check()
    if (this.#lora !== undefined) throw new Error("the model already has LoRA adapters attached")
    adapters.checkFits(this.config)
    this.#lora = adapters
  }

  /** Removes the attached adapters and hands them (and their disposal) back to the caller. */
  detachLora(): LoraAdapters | undefined {
    const adapters = this.#lora
    this.#lora = undefined
    return adapters
  }

  /** The variables an optimizer updates: the LoRA adapters' when attached, else all of them. */
  get trainableVariables(): ReadonlyArray<tf.Variable> {
    return this.#lora?.variables ?? this.variables
  }

  /** Names parallel to {@link trainableVariables}. */
  get trainableNames(): ReadonlyArray<string> {
    return this.#lora?.variableNames ?? this.variableNames
  }

  /** Rotary inverse frequencies theta^(-2i/headDim), i < headDim/2. */
  get inverseFrequencies(): Float64Array {
    return this.#invFreq
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.variables.reduce((n, v) => n + v.size, 0)
  }

  /**
   * Logits [B, T, V] for int32 ids [B, T] under causal attention (no padding).
   *
   * @example
   * const logits = model.forward(ids) // ids: tf.Tensor2D int32
   */
  forward(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = ids.shape
      const { hidden } = this.hidden(ids)
      return tf.reshape(this.logits(hidden), [B, T, this.config.vocabSize])
    })
  }

  /**
   * Final hidden states [B*T, d] (before the final norm) of the columns of `ids`; the caller
   * disposes the result.
   */
  hidden(ids: tf.Tensor2D, options: HiddenOptions = {}): { hidden: tf.Tensor2D } {
    this.#check()
    const [B, T] = ids.shape
    const pads = options.padLengths
    if (pads !== undefined && pads.length !== B) throw new RangeError(`padLengths has ${pads.length} rows, ids has ${B}`)
    const eps = this.config.normEps
    const lora = this.#lora
    const fused = fusedKernelsActive()
    const hidden = tf.tidy(() => {
      const attend = fused ? this.#fusedAttention(B, T, pads) : this.#composedAttention(B, T, pads)
      let x: tf.Tensor2D = embedRows(ids.dataSync(), this.#embed)
      for (let l = 0; l < this.#layers.length; l++) {
        const w = this.#layers[l] as LayerWeights
        const linear = (input: tf.Tensor, weight: tf.Tensor, target: LoraTarget) => loraLinear(input, weight, lora?.adapter(l, target))
        const input = x
        // One tidy per layer: what backpropagation needs is kept by the tape, the rest of the
        // layer's intermediates are freed before the next layer runs.
        x = tf.tidy(() => {
          const h = rmsNorm(input, w.attnNorm, eps)
          const merged = attend(linear(h, w.wq, "q") as tf.Tensor2D, linear(h, w.wk, "k") as tf.Tensor2D, linear(h, w.wv, "v") as tf.Tensor2D, w)
          const mid = tf.add(input, linear(merged, w.wo, "o"))
          const h2 = rmsNorm(mid, w.mlpNorm, eps)
          const act = swiglu(linear(h2, w.wGate, "gate"), linear(h2, w.wUp, "up"))
          return tf.add(mid, linear(act, w.wDown, "down")) as tf.Tensor2D
        })
      }
      return x
    })
    return { hidden }
  }

  /** Logits [N, V] of hidden states [N, d]: final RMSNorm then the output projection. */
  logits(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(rmsNorm(hidden, this.#finalNorm, this.config.normEps), this.#head, false, true))
  }

  /**
   * Rotary cos/sin tables of at least `positions` positions (default maxSeqLen), kept by the
   * model for the fused kernels. A decoding batch may feed rows that have already finished past
   * maxSeqLen: larger tables are made then, and earlier ones are kept until `dispose()` (a
   * pending backward pass may still read them).
   */
  rotaryTables(positions: number = this.config.maxSeqLen): RotaryTables {
    this.#check()
    const last = this.#rotary.at(-1)
    if (last !== undefined && last.cos.shape[0] >= positions) return last
    const length = Math.max(this.config.maxSeqLen, 2 * (last?.cos.shape[0] ?? 0), positions)
    const made = tf.tidy(() => {
      const tables = rotaryTables(this.#invFreq, length)
      return { cos: tf.keep(tables.cos), sin: tf.keep(tables.sin) }
    })
    this.#rotary.push(made)
    return made
  }

  /** Releases the variables and constant tensors. */
  dispose(): void {
    if (this.#disposed) return
    this.#disposed = true
    for (const v of this.variables) v.dispose()
    this.#lora?.dispose()
    this.#rotate.dispose()
    tf.dispose(this.#rotary.flatMap((t) => [t.cos, t.sin]))
  }

  #check(): void {
    if (this.#disposed) throw new Error("TransformerModel used after dispose()")
  }

  /** Attention of a layer (q/k norms, rotary embedding, causal softmax, heads merged) through the fused kernels. */
  #fusedAttention(B: number, T: number, pads: ReadonlyArray<number> | undefined): Attend {
    const positions = new Int32Array(B * T)
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) positions[b * T + t] = Math.max(0, t - (pads?.[b] ?? 0))
    const layout = { batch: B, headDim: this.headDim, eps: this.config.normEps, positions, pads: Int32Array.from(pads ?? new Array<number>(B).fill(0)) }
    const tables = this.rotaryTables(T)
    return (q, k, v, w) => fusedAttention(q, k, v, w.qNorm, w.kNorm, tables, layout)
  }

  /** The same attention as TensorFlow.js ops; its tables and mask are made once per forward pass. */
  #composedAttention(B: number, T: number, pads: ReadonlyArray<number> | undefined): Attend {
    const { nHeads: H, nKvHeads: Hkv, normEps: eps } = this.config
    const hd = this.headDim
    const rep = H / Hkv
    const rope = this.#ropeTables(B, T, pads)
    const mask = this.#mask(B, rep, T, pads)
    return (q2d, k2d, v2d, w) => {
      const q = this.#rope(rmsNorm(tf.reshape(q2d, [B, T, H, hd]) as tf.Tensor4D, w.qNorm, eps), rope.cosQ, rope.sinQ)
      const k = this.#rope(rmsNorm(tf.reshape(k2d, [B, T, Hkv, hd]) as tf.Tensor4D, w.kNorm, eps), rope.cos, rope.sin)
      const v = tf.reshape(v2d, [B, T, Hkv, hd])
      const qh = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [B, Hkv, rep * T, hd])
      const kh = tf.transpose(k, [0, 2, 1, 3]) as tf.Tensor4D
      const vh = tf.transpose(v, [0, 2, 1, 3]) as tf.Tensor4D
      const scores = tf.add(tf.matMul(qh, kh, false, true), mask)
      const probs = tf.softmax(scores)
      const att = tf.reshape(tf.matMul(probs, vh), [B, H, T, hd])
      return tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D
    }
  }

  #rope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
    const hd = this.headDim
    const rotated = tf.reshape(tf.matMul(tf.reshape(x, [-1, hd]), this.#rotate), x.shape)
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D
  }

  /** cos/sin tables [B or 1, T, 1, hd] for the new columns; the q tables carry 1/sqrt(hd). */
  #ropeTables(B: number, T: number, pads: ReadonlyArray<number> | undefined) {
    const hd = this.headDim
    const half = hd / 2
    const rows = pads === undefined ? 1 : B
    const cos = new Float32Array(rows * T * hd)
    const sin = new Float32Array(rows * T * hd)
    const cosQ = new Float32Array(rows * T * hd)
    const sinQ = new Float32Array(rows * T * hd)
    const scale = 1 / Math.sqrt(hd)
    for (let b = 0; b < rows; b++) {
      const pad = pads === undefined ? 0 : (pads[b] as number)
      for (let t = 0; t < T; t++) {
        const pos = Math.max(0, t - pad)
        const base = (b * T + t) * hd
        for (let i = 0; i < half; i++) {
          const angle = pos * (this.#invFreq[i] as number)
          const c = Math.cos(angle)
          const s = Math.sin(angle)
          cos[base + i] = c
          cos[base + i + half] = c
          sin[base + i] = s
          sin[base + i + half] = s
          cosQ[base + i] = c * scale
          cosQ[base + i + half] = c * scale
          sinQ[base + i] = s * scale
          sinQ[base + i + half] = s * scale
        }
      }
    }
    const shape: [number, number, number, number] = [rows, T, 1, hd]
    return {
      cos: tf.tensor4d(cos, shape),
      sin: tf.tensor4d(sin, shape),
      cosQ: tf.tensor4d(cosQ, shape),
      sinQ: tf.tensor4d(sinQ, shape),
    }
  }

  /**
   * Additive attention mask [B or 1, 1, rep*T, T]: query t sees key columns from its row's
   * first real token up to itself.
   */
  #mask(B: number, rep: number, T: number, pads: ReadonlyArray<number> | undefined): tf.Tensor4D {
    const Tk = T
    const rows = pads === undefined ? 1 : B
    const data = new Float32Array(rows * rep * T * Tk)
    for (let b = 0; b < rows; b++) {
      const pad = pads === undefined ? 0 : (pads[b] as number)
      for (let r = 0; r < rep; r++) {
        for (let t = 0; t < T; t++) {
          const base = ((b * rep + r) * T + t) * Tk
          for (let s = 0; s < Tk; s++) if (s < pad || s > t) data[base + s] = maskValue
        }
      }
    }
    return tf.tensor4d(data, [rows, 1, rep * T, Tk])
  }
}
