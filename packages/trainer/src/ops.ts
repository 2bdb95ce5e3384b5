import * as tf from "@tensorflow/tfjs-core"
import { fusedKernelsActive, fusedRmsNorm, fusedSwiglu, fusedTokenLogprobs } from "./fusedOps.ts"

/**
 * Fused building blocks of the model with hand-written gradients. Row reductions run as
 * matrix products (a column of 1/d, a row of ones), which the backends execute far faster
 * than their generic reduction kernels, and each op records one tape node instead of many.
 */

const constants = new Map<string, tf.Tensor>()

/** A small constant tensor created once per backend and key and kept for the life of the process (keys are few: one per width). */
const constant = (key: string, make: () => tf.Tensor): tf.Tensor => {
  const id = `${tf.getBackend()}:${key}`
  const hit = constants.get(id)
  if (hit !== undefined && !hit.isDisposed) return hit
  const t = tf.keep(make())
  constants.set(id, t)
  return t
}

/** The column [d, 1] of 1/d: x @ column = row means. */
const meanColumn = (d: number): tf.Tensor2D => constant(`mean${d}`, () => tf.fill([d, 1], 1 / d)) as tf.Tensor2D

/**
 * RMSNorm over the last axis with a learned gain: x / sqrt(mean(x^2) + eps) * gain (one fused
 * native kernel where those are registered).
 *
 * @example
 * const y = rmsNorm(x, gain, 1e-6) // same shape as x
 */
export const rmsNorm = <T extends tf.Tensor>(x: T, gain: tf.Tensor, eps: number): T => {
  const d = x.shape[x.shape.length - 1] as number
  const flat = x.rank === 2 ? (x as unknown as tf.Tensor2D) : (tf.reshape(x, [-1, d]) as tf.Tensor2D)
  const out = fusedKernelsActive() ? fusedRmsNorm(flat, gain, eps) : rmsNorm2d(flat, gain, eps)
  return (x.rank === 2 ? out : tf.reshape(out, x.shape)) as T
}

const rmsNorm2d = (x: tf.Tensor, gain: tf.Tensor, eps: number): tf.Tensor =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor2D
    const g = args[1] as tf.Tensor1D
    const save = args[2] as tf.GradSaveFunc
    const [N, d] = input.shape
    const r = tf.rsqrt(tf.add(tf.matMul(tf.square(input), meanColumn(d)), eps))
    const xn = tf.mul(input, r)
    save([g, r, xn])
    return {
      value: tf.mul(xn, g),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [sg, sr, sxn] = saved as [tf.Tensor1D, tf.Tensor2D, tf.Tensor2D]
        const dyt = dy as tf.Tensor2D
        const ones = tf.ones([1, N]) as tf.Tensor2D
        const dGain = tf.reshape(tf.matMul(ones, tf.mul(dyt, sxn)), [d])
        const dxn = tf.mul(dyt, sg)
        const dot = tf.matMul(tf.mul(dxn, sxn), meanColumn(d))
        const dx = tf.mul(tf.sub(dxn, tf.mul(sxn, dot)), sr)
        return [dx, dGain]
      },
    }
  })(x, gain)

/**
 * The SwiGLU activation silu(gate) * up, fused (one native kernel where those are registered).
 *
 * @example
 * const h = swiglu(tf.matMul(x, wGate), tf.matMul(x, wUp))
 */
export const swiglu = <T extends tf.Tensor>(gate: T, up: T): T =>
  fusedKernelsActive() ? fusedSwiglu(gate, up) : swigluComposed(gate, up)

const swigluComposed = <T extends tf.Tensor>(gate: T, up: T): T =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const g = args[0] as tf.Tensor
    const u = args[1] as tf.Tensor
    const save = args[2] as tf.GradSaveFunc
    const s = tf.sigmoid(g)
    const silu = tf.mul(g, s)
    save([u, s, silu])
    return {
      value: tf.mul(silu, u),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [su, ss, ssilu] = saved as [tf.Tensor, tf.Tensor, tf.Tensor]
        const dyt = dy as tf.Tensor
        // d silu / d g = s + silu * (1 - s)
        const dsilu = tf.sub(tf.add(ss, ssilu), tf.mul(ssilu, ss))
        return [tf.mul(tf.mul(dyt, su), dsilu), tf.mul(dyt, ssilu)]
      },
    }
  })(gate, up) as T

/**
 * A float32 one-hot matrix [ids.length, depth] built on the host (the wasm backend's OneHot
 * kernel ignores a float dtype).
 */
export const oneHotRows = (ids: ArrayLike<number>, depth: number): tf.Tensor2D => {
  const data = new Float32Array(ids.length * depth)
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number
    if (id >= 0 && id < depth) data[i * depth + id] = 1
  }
  return tf.tensor2d(data, [ids.length, depth])
}

/** Vocabularies up to this size embed as a one-hot product, larger ones as a gather. */
const oneHotEmbeddingLimit = 4096

/**
 * The rows [ids.length, d] of an embedding table [V, d] for token ids, differentiable in the
 * table. A small vocabulary (at most 4,096 ids) uses a one-hot product, whose gradient is one
 * matmul on every backend; a larger one would make that one-hot matrix gigabytes (151,936 ids
 * x 1,024 tokens is 620 MB), so it gathers rows and adds the output gradient's rows into a zero
 * table on the host (the wasm backend has no kernel for gather's gradient).
 *
 * @example
 * const x = embedRows(Int32Array.from([3, 1]), embed) // [2, d]
 */
export const embedRows = (ids: ArrayLike<number>, table: tf.Tensor): tf.Tensor2D => {
  const [V, d] = table.shape as [number, number]
  if (V <= oneHotEmbeddingLimit) return tf.matMul(oneHotRows(ids, V), table as tf.Tensor2D)
  const rows = Int32Array.from(ids as ArrayLike<number>)
  for (const id of rows) if (id < 0 || id >= V) throw new RangeError(`token id ${id} is outside the vocabulary of ${V}`)
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const t = args[0] as tf.Tensor2D
    return {
      value: tf.gather(t, tf.tensor1d(rows, "int32")) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>) => {
        const g = (dy as tf.Tensor).dataSync() as Float32Array
        const out = new Float32Array(V * d)
        rows.forEach((id, r) => {
          const src = r * d
          const dst = id * d
          for (let j = 0; j < d; j++) out[dst + j] = (out[dst + j] as number) + (g[src + j] as number)
        })
        return [tf.tensor2d(out, [V, d])]
      },
    }
  })(table) as tf.Tensor2D
}

/**
 * The log-probability log softmax(logits[r])[ids[r]] of one id per row of logits [N, V], with
 * a hand-written gradient: softmax(logits[r]) subtracted from the one-hot of ids[r], times the
 * row's output gradient. Neither the log-softmax matrix nor a one-hot matrix exists in the
 * forward pass, and the backward pass makes one [N, V] matrix: with a 151,936-id vocabulary a
 * row of those costs 0.6 MB per token.
 *
 * @example
 * const lp = tokenLogprobs(logits, Int32Array.from([3, 1])) // [2]
 */
export const tokenLogprobs = (logits: tf.Tensor2D, ids: ArrayLike<number>): tf.Tensor1D => {
  const [N, V] = logits.shape
  if (ids.length !== N) throw new RangeError(`tokenLogprobs: ${ids.length} ids for ${N} rows`)
  const rowIds = Int32Array.from({ length: N }, (_, r) => {
    const id = ids[r] as number
    if (!(id >= 0 && id < V)) throw new RangeError(`token id ${id} is outside the vocabulary of ${V}`)
    return id
  })
  if (fusedKernelsActive()) return fusedTokenLogprobs(logits, tf.tensor1d(rowIds, "int32"))
  const flat = rowIds.map((id, r) => r * V + id)
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D
    const save = args[1] as tf.GradSaveFunc
    const lse = tf.tidy(() => {
      const max = tf.max(x, -1, true)
      return tf.add(tf.reshape(max, [N]), tf.log(tf.sum(tf.exp(tf.sub(x, max)), -1))) as tf.Tensor1D
    })
    save([x, lse])
    return {
      value: tf.sub(tf.gather(tf.reshape(x, [N * V]), tf.tensor1d(flat, "int32")), lse) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [sx, slse] = saved as [tf.Tensor2D, tf.Tensor1D]
        const g = (dy as tf.Tensor).dataSync() as Float32Array
        const hot = new Float32Array(N * V)
        flat.forEach((at, r) => (hot[at] = g[r] as number))
        const column = tf.reshape(dy as tf.Tensor, [N, 1])
        return [tf.sub(tf.tensor2d(hot, [N, V]), tf.mul(tf.exp(tf.sub(sx, tf.reshape(slse, [N, 1]))), column))]
      },
    }
  })(logits) as tf.Tensor1D
}
