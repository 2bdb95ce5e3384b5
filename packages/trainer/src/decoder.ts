import * as tf from "@tensorflow/tfjs-core"
import type { KvCache } from "./kvCache.ts"
import type { TransformerModel } from "./model.ts"
import { oneHotRows } from "./ops.ts"

const maskValue = -1e9

interface PreparedLayer {
  /** [d, (H + Hkv) * hd]: q and k projections with the attention-norm gain folded in. */
  readonly wqk: tf.Tensor2D
  readonly wv: tf.Tensor2D
  readonly wo: tf.Tensor2D
  readonly wGate: tf.Tensor2D
  readonly wUp: tf.Tensor2D
  readonly wDown: tf.Tensor2D
  /** Per-head-slot q/k norm gains [H + Hkv, hd]; the q slots carry 1/sqrt(hd). */
  readonly qkGain: tf.Tensor2D
}

/**
 * An inference-only view of a model for decoding: norm gains folded into the following
 * projections, q and k projected, normalized and rotated together, the q/k norm gains and the
 * attention scale folded into the rotary tables. Fewer, larger kernels per step than the
 * training graph, the same function up to float rounding. Build one per batch of generation
 * (weights are snapshotted) and dispose it after.
 *
 * @example
 * const decoder = new Decoder(model)
 * const logits = decoder.step(ids, B, T, padLengths, cache) // [B, V] of each row's last column
 * decoder.dispose()
 */
export class Decoder {
  readonly #model: TransformerModel
  readonly #layers: ReadonlyArray<PreparedLayer>
  readonly #embed: tf.Tensor2D
  /** The output projection with the final-norm gain folded in: [V, d]. */
  readonly #unembed: tf.Tensor2D
  readonly #rotate: tf.Tensor2D
  readonly #meanD: tf.Tensor2D
  readonly #meanHd: tf.Tensor2D

  constructor(model: TransformerModel) {
    this.#model = model
    const { dModel: d, nHeads: H, nKvHeads: Hkv } = model.config
    const hd = model.headDim
    const half = hd / 2
    const w = model.weights
    const scale = 1 / Math.sqrt(hd)
    this.#embed = tf.keep(tf.clone(w.embed)) as tf.Tensor2D
    this.#unembed = tf.tidy(() => tf.mul(w.embed, w.finalNorm)) as tf.Tensor2D
    this.#layers = w.layers.map((l) =>
      tf.tidy(() => {
        const g = tf.reshape(l.attnNorm, [d, 1])
        const m = tf.reshape(l.mlpNorm, [d, 1])
        return {
          wqk: tf.keep(tf.mul(tf.concat([l.wq, l.wk], 1), g)) as tf.Tensor2D,
          wv: tf.keep(tf.mul(l.wv, g)) as tf.Tensor2D,
          wo: tf.keep(tf.clone(l.wo)) as tf.Tensor2D,
          wGate: tf.keep(tf.mul(l.wGate, m)) as tf.Tensor2D,
          wUp: tf.keep(tf.mul(l.wUp, m)) as tf.Tensor2D,
          wDown: tf.keep(tf.clone(l.wDown)) as tf.Tensor2D,
          qkGain: tf.keep(
            tf.concat([tf.tile(tf.reshape(tf.mul(l.qNorm, scale), [1, hd]), [H, 1]), tf.tile(tf.reshape(l.kNorm, [1, hd]), [Hkv, 1])], 0),
          ) as tf.Tensor2D,
        }
      }),
    )
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
    const { nHeads: H, nKvHeads: Hkv, normEps: eps, vocabSize: V, dModel: d } = this.#model.config
    const hd = this.#model.headDim
    const rep = H / Hkv
    const slots = H + Hkv
    const Tp = cache.length
    const Tk = cache.keyLength(T)
    const logits = tf.tidy(() => {
      const mask = this.#mask(B, rep, T, Tp, Tk, padLengths)
      const { cos, sin } = this.#rotaryTables(B, T, Tp, padLengths)
      const norm = (x: tf.Tensor2D, mean: tf.Tensor2D) =>
        tf.mul(x, tf.rsqrt(tf.add(tf.matMul(tf.square(x), mean), eps))) as tf.Tensor2D
      let x = tf.matMul(oneHotRows(ids, V), this.#embed)
      this.#layers.forEach((layer, l) => {
        const h = norm(x as tf.Tensor2D, this.#meanD)
        const qkn = norm(tf.reshape(tf.matMul(h, layer.wqk), [-1, hd]) as tf.Tensor2D, this.#meanHd)
        const qk = tf.reshape(tf.mul(tf.reshape(qkn, [B * T, slots, hd]), layer.qkGain), [-1, hd]) as tf.Tensor2D
        const v = tf.matMul(h, layer.wv)
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
        const att = tf.matMul(probs, keys.v)
        const merged =
          T === 1 ? tf.reshape(att, [B, H * hd]) : tf.reshape(tf.transpose(tf.reshape(att, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd])
        x = tf.add(x, tf.matMul(merged, layer.wo))
        const h2 = norm(x as tf.Tensor2D, this.#meanD)
        const gate = tf.matMul(h2, layer.wGate)
        const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), tf.matMul(h2, layer.wUp))
        x = tf.add(x, tf.matMul(act, layer.wDown))
      })
      const last = T === 1 ? x : tf.reshape(tf.slice(tf.reshape(x, [B, T, d]), [0, T - 1, 0], [B, 1, d]), [B, d])
      return tf.matMul(norm(last as tf.Tensor2D, this.#meanD), this.#unembed, false, true)
    })
    cache.advance(T)
    const data = logits.dataSync() as Float32Array
    logits.dispose()
    return data
  }

  /** Releases the prepared weights. */
  dispose(): void {
    for (const l of this.#layers) tf.dispose([l.wqk, l.wv, l.wo, l.wGate, l.wUp, l.wDown, l.qkGain])
    tf.dispose([this.#embed, this.#unembed, this.#rotate, this.#meanD, this.#meanHd])
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
