import * as tf from "@tensorflow/tfjs-core"
import { fusedDecodeAttention, fusedKernelsActive, fusedSwigluPacked } from "./fusedOps.ts"
import type { KvCache } from "./kvCache.ts"
import { loraLinear, type LoraTarget } from "./lora.ts"
import type { LayerWeights, TransformerModel } from "./model.ts"
import { rmsNorm } from "./ops.ts"

const maskValue = -1e9

/**
 * The most projection weights (floats) the decoder copies side by side: the `small` and `medium`
 * presets' are a few million; a 0.6B model's would be 300 million (1.2 GB more of a 4 GiB wasm
 * heap), so such a model concatenates each step's projections instead.
 */
export const packedWeightsLimit = 32 * 1024 * 1024

const packedWeightCount = (layers: ReadonlyArray<LayerWeights>): number =>
  layers.reduce((n, l) => n + l.wq.size + l.wk.size + l.wv.size + l.wGate.size + l.wUp.size, 0)

/**
 * An inference-only view of a model for decoding: q and k projected, normalized and rotated
 * together, the q/k norm gains and the attention scale folded into one small per-head-slot
 * gain, LoRA adapters (when attached) added as their low-rank paths. It reads the model's
 * weights in place (a model of several GiB could not be copied within the wasm heap), so build
 * one per batch of generation, do not update the weights while it decodes, and dispose it after
 * (only a small model's projections are copied side by side, see {@link packedWeightsLimit}).
 * The same function as the training graph up to float rounding. Where the fused native kernels
 * are registered and the cache is written in place, a layer is a few kernels: RMSNorm, the
 * projections, one attention kernel that also writes the new keys and values into the cache,
 * SwiGLU.
 *
 * @example
 * const decoder = new Decoder(model)
 * const logits = decoder.step(ids, B, T, padLengths, cache) // [B, V] of each row's last column
 * decoder.dispose()
 */
export class Decoder {
  readonly #model: TransformerModel
  /** Per layer, the q/k norm gains per head slot [H + Hkv, hd]; the q slots carry 1/sqrt(hd). */
  readonly #qkGains: ReadonlyArray<tf.Tensor2D>
  readonly #rotate: tf.Tensor2D
  readonly #meanD: tf.Tensor2D
  readonly #meanHd: tf.Tensor2D
  /**
   * Per layer, [wq | wk | wv] and [wGate | wUp] side by side, so that the fused step makes one
   * matmul where it would make three and one where two; made on the first fused step of a model
   * without LoRA adapters whose copies fit in {@link packedWeightsLimit}.
   */
  #packed: ReadonlyArray<{ readonly qkv: tf.Tensor2D; readonly gateUp: tf.Tensor2D }> | undefined

  readonly #packLimit: number

  /** `options.packedWeightsLimit`: copy the projections side by side up to this many floats (default {@link packedWeightsLimit}). */
  constructor(model: TransformerModel, options: { readonly packedWeightsLimit?: number } = {}) {
    this.#model = model
    this.#packLimit = options.packedWeightsLimit ?? packedWeightsLimit
    const { dModel: d, nHeads: H, nKvHeads: Hkv } = model.config
    const hd = model.headDim
    const half = hd / 2
    const scale = 1 / Math.sqrt(hd)
    this.#qkGains = model.weights.layers.map((l) =>
      tf.tidy(() => tf.concat([tf.tile(tf.reshape(tf.mul(l.qNorm, scale), [1, hd]), [H, 1]), tf.tile(tf.reshape(l.kNorm, [1, hd]), [Hkv, 1])], 0)),
    ) as Array<tf.Tensor2D>
    const rot = new Float32Array(hd * hd)
    for (let j = 0; j < half; j++) {
      rot[(j + half) * hd + j] = -1
      rot[j * hd + j + half] = 1
    }
    this.#rotate = tf.tensor2d(rot, [hd, hd])
    this.#meanD = tf.fill([d, 1], 1 / d) as tf.Tensor2D
    this.#meanHd = tf.fill([hd, 1], 1 / hd) as tf.Tensor2D
  }

  /**
   * Runs the new columns `ids` ([B, T] row-major) after the cache's columns, writes their keys
   * and values into the cache, advances it, and returns the logits of each row's last new
   * column ([B * V], row-major). `padLengths` are the rows' left padding.
   */
  step(ids: Int32Array, B: number, T: number, padLengths: ReadonlyArray<number>, cache: KvCache): Float32Array {
    const logits = fusedKernelsActive() && cache.inPlace ? this.#fusedStep(ids, B, T, padLengths, cache) : this.#composedStep(ids, B, T, padLengths, cache)
    cache.advance(T)
    const data = logits.dataSync() as Float32Array
    logits.dispose()
    return data
  }

  /** Logits [B, V] of each row's last new column through the fused kernels. */
  #fusedStep(ids: Int32Array, B: number, T: number, padLengths: ReadonlyArray<number>, cache: KvCache): tf.Tensor2D {
    const { normEps: eps, dModel: d } = this.#model.config
    const Tp = cache.length
    const weights = this.#model.weights
    const lora = this.#model.lora
    cache.checkRoom(T)
    const positions = new Int32Array(B * T)
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) positions[b * T + t] = Math.max(0, Tp + t - (padLengths[b] as number))
    const tables = this.#model.rotaryTables(Tp + T)
    const layout = { batch: B, headDim: this.#model.headDim, eps, positions, pads: Int32Array.from(padLengths) }
    const heads = { heads: this.#model.config.nHeads, kvHeads: this.#model.config.nKvHeads }
    if (lora === undefined && this.#packed === undefined && packedWeightCount(weights.layers) <= this.#packLimit) {
      this.#packed = weights.layers.map((layer) => ({
        qkv: tf.concat([layer.wq, layer.wk, layer.wv], 1) as tf.Tensor2D,
        gateUp: tf.concat([layer.wGate, layer.wUp], 1) as tf.Tensor2D,
      }))
    }
    const packed = lora === undefined ? this.#packed : undefined
    return tf.tidy(() => {
      let x = tf.gather(weights.embed, tf.tensor1d(ids, "int32")) as tf.Tensor2D
      weights.layers.forEach((layer, l) => {
        const linear = (input: tf.Tensor2D, weight: tf.Tensor, target: LoraTarget) => loraLinear(input, weight, lora?.adapter(l, target)) as tf.Tensor2D
        // One matmul against the packed weights, or (with adapters) the projections side by side.
        const side = (input: tf.Tensor2D, pack: "qkv" | "gateUp", parts: ReadonlyArray<readonly [tf.Tensor, LoraTarget]>) =>
          packed === undefined
            ? (tf.concat(parts.map(([w, target]) => linear(input, w, target)), 1) as tf.Tensor2D)
            : (tf.matMul(input, packed[l]![pack]) as tf.Tensor2D)
        const slot = cache.layer(l)
        const input = x
        x = tf.tidy(() => {
          const h = rmsNorm(input, layer.attnNorm, eps)
          const qkv = side(h, "qkv", [[layer.wq, "q"], [layer.wk, "k"], [layer.wv, "v"]])
          const merged = fusedDecodeAttention(qkv, layer.qNorm, layer.kNorm, tables, layout, heads, slot.k, slot.v, Tp)
          const mid = tf.add(input, linear(merged, layer.wo, "o")) as tf.Tensor2D
          const h2 = rmsNorm(mid, layer.mlpNorm, eps)
          const act = fusedSwigluPacked(side(h2, "gateUp", [[layer.wGate, "gate"], [layer.wUp, "up"]]))
          return tf.add(mid, linear(act, layer.wDown, "down")) as tf.Tensor2D
        })
      })
      const last = T === 1 ? x : tf.reshape(tf.slice(tf.reshape(x, [B, T, d]), [0, T - 1, 0], [B, 1, d]), [B, d])
      return tf.matMul(rmsNorm(last as tf.Tensor2D, weights.finalNorm, eps), weights.head, false, true)
    })
  }

  /** Logits [B, V] of each row's last new column through TensorFlow.js ops. */
  #composedStep(ids: Int32Array, B: number, T: number, padLengths: ReadonlyArray<number>, cache: KvCache): tf.Tensor2D {
    const { nHeads: H, nKvHeads: Hkv, normEps: eps, dModel: d } = this.#model.config
    const hd = this.#model.headDim
    const rep = H / Hkv
    const slots = H + Hkv
    const Tp = cache.length
    const Tk = cache.keyLength(T)
    const weights = this.#model.weights
    const lora = this.#model.lora
    return tf.tidy(() => {
      const mask = this.#mask(B, rep, T, Tp, Tk, padLengths)
      const { cos, sin } = this.#rotaryTables(B, T, Tp, padLengths)
      const norm = (x: tf.Tensor2D, mean: tf.Tensor2D) =>
        tf.mul(x, tf.rsqrt(tf.add(tf.matMul(tf.square(x), mean), eps))) as tf.Tensor2D
      let x = tf.gather(weights.embed, tf.tensor1d(ids, "int32")) as tf.Tensor2D
      weights.layers.forEach((layer, l) => {
        const linear = (input: tf.Tensor2D, weight: tf.Tensor, target: LoraTarget) => loraLinear(input, weight, lora?.adapter(l, target))
        const input = x
        // One tidy per layer: a layer's intermediates are freed before the next layer runs.
        x = tf.tidy(() => {
          const h = tf.mul(norm(input, this.#meanD), layer.attnNorm) as tf.Tensor2D
          const qkProjected = tf.concat([linear(h, layer.wq, "q"), linear(h, layer.wk, "k")], 1)
          const qkn = norm(tf.reshape(qkProjected, [-1, hd]) as tf.Tensor2D, this.#meanHd)
          const qk = tf.reshape(tf.mul(tf.reshape(qkn, [B * T, slots, hd]), this.#qkGains[l] as tf.Tensor2D), [-1, hd]) as tf.Tensor2D
          const v = linear(h, layer.wv, "v")
          const rotated = tf.add(
            tf.mul(tf.reshape(qk, [B, T, slots, hd]), cos),
            tf.mul(tf.reshape(tf.matMul(qk, this.#rotate), [B, T, slots, hd]), sin),
          )
          const q = tf.slice(rotated, [0, 0, 0, 0], [B, T, H, hd])
          const k = tf.slice(rotated, [0, 0, H, 0], [B, T, Hkv, hd])
          let qh: tf.Tensor4D
          let kh: tf.Tensor4D
          let vh: tf.Tensor4D
          if (T === 1) {
            qh = tf.reshape(q, [B, Hkv, rep, hd])
            kh = tf.reshape(k, [B, Hkv, 1, hd])
            vh = tf.reshape(v, [B, Hkv, 1, hd])
          } else {
            qh = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [B, Hkv, rep * T, hd])
            kh = tf.transpose(k, [0, 2, 1, 3]) as tf.Tensor4D
            vh = tf.transpose(tf.reshape(v, [B, T, Hkv, hd]), [0, 2, 1, 3])
          }
          const keys = cache.update(l, kh, vh)
          const probs = tf.softmax(tf.add(tf.matMul(qh, keys.k, false, true), mask))
          // The wasm backend's own BatchMatMul keeps a packed copy of the right operand, keyed by tensor
          // id, when the batch is 1 and neither operand is transposed; the in-place cache changes its
          // values under the same id, so that one case is computed transposed.
          const att =
            cache.inPlace && B * Hkv === 1 ? tf.transpose(tf.matMul(keys.v, probs, true, true), [0, 1, 3, 2]) : tf.matMul(probs, keys.v)
          const merged =
            T === 1 ? tf.reshape(att, [B, H * hd]) : tf.reshape(tf.transpose(tf.reshape(att, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd])
          const mid = tf.add(input, linear(merged as tf.Tensor2D, layer.wo, "o")) as tf.Tensor2D
          const h2 = tf.mul(norm(mid, this.#meanD), layer.mlpNorm) as tf.Tensor2D
          const gate = linear(h2, layer.wGate, "gate")
          const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), linear(h2, layer.wUp, "up")) as tf.Tensor2D
          return tf.add(mid, linear(act, layer.wDown, "down")) as tf.Tensor2D
        })
      })
      const last = T === 1 ? x : tf.reshape(tf.slice(tf.reshape(x, [B, T, d]), [0, T - 1, 0], [B, 1, d]), [B, d])
      return tf.matMul(tf.mul(norm(last as tf.Tensor2D, this.#meanD), weights.finalNorm), weights.head, false, true)
    })
  }

  /** Releases the decoder's own small tensors (not the model's weights). */
  dispose(): void {
    tf.dispose([...this.#qkGains, this.#rotate, this.#meanD, this.#meanHd, ...(this.#packed ?? []).flatMap((p) => [p.qkv, p.gateUp])])
    this.#packed = undefined
  }

  /** cos and sin tables [B, T, 1, hd] of each row's rotary positions (rotate-half layout). */
  #rotaryTables(B: number, T: number, Tp: number, pads: ReadonlyArray<number>): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
    const inv = this.#model.inverseFrequencies
    const half = inv.length
    const hd = 2 * half
    const cos = new Float32Array(B * T * hd)
    const sin = new Float32Array(B * T * hd)
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const pos = Math.max(0, Tp + t - (pads[b] as number))
        const base = (b * T + t) * hd
        for (let i = 0; i < half; i++) {
          const a = pos * (inv[i] as number)
          const c = Math.cos(a)
          const s = Math.sin(a)
          cos[base + i] = c
          cos[base + i + half] = c
          sin[base + i] = s
          sin[base + i + half] = s
        }
      }
    }
    return { cos: tf.tensor4d(cos, [B, T, 1, hd]), sin: tf.tensor4d(sin, [B, T, 1, hd]) }
  }

  /** Additive mask [B, 1, rep*T, Tk]: query t sees key columns from the row's first real token to Tp + t. */
  #mask(B: number, rep: number, T: number, Tp: number, Tk: number, pads: ReadonlyArray<number>): tf.Tensor4D {
    const data = new Float32Array(B * rep * T * Tk)
    for (let b = 0; b < B; b++) {
      const pad = pads[b] as number
      for (let r = 0; r < rep; r++) {
        for (let t = 0; t < T; t++) {
          const base = ((b * rep + r) * T + t) * Tk
          for (let s = 0; s < Tk; s++) if (s < pad || s > Tp + t) data[base + s] = maskValue
        }
      }
    }
    return tf.tensor4d(data, [B, 1, rep * T, Tk])
  }
}
